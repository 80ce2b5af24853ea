import EntenteCore
import EntenteCrypto
import EntenteSync
import EntenteWire

extension Fuzz {
    /// Parses an envelope, verifies it against its origin's pinned key (Alpha's when the origin is unknown, so
    /// the certificate check still runs), and opens it as Beta, the fixed recipient.
    /// - Returns: true if the envelope verified and opened.
    public static func envelope(_ bytes: [UInt8]) -> Bool {
        guard let envelope = try? Envelope(parsing: bytes) else { return false }
        let key = FuzzIdentity.partners[envelope.origin] ?? FuzzIdentity.alpha.companyKey.publicKey
        let verified = (try? envelope.verify(companyKey: key)) != nil
        guard let operations = try? envelope.open(as: FuzzIdentity.beta.company, with: FuzzIdentity.beta.boxKeys)
        else { return false }
        checkRoundTrip(operations, author: envelope.origin)
        return verified
    }

    /// Decodes a bundle and runs ``envelope(_:)`` on each envelope it holds.
    ///
    /// A bundle whose checksum does not
    /// match is decoded a second time with the checksum fixed, so mutations get past it.
    /// - Returns: true if the bundle (as given or with its checksum fixed) decoded.
    public static func bundle(_ bytes: [UInt8]) -> Bool {
        var decoded = try? Bundle(decoding: bytes)
        if decoded == nil, bytes.count >= 32 {
            let body = Array(bytes[..<(bytes.count - 32)])
            let fixed = body + BLAKE2b.hash(body, outputLength: 32)
            if fixed != bytes { decoded = try? Bundle(decoding: fixed) }
        }
        guard let bundle = decoded else { return false }
        for envelope in bundle.envelopes { _ = Fuzz.envelope(envelope) }
        return true
    }

    /// Decodes an operation batch; a batch that decodes must re-encode to a batch that decodes to the same
    /// operations, and each operation is checked for authority as Alpha's.
    /// - Returns: true if the batch decoded.
    public static func operations(_ bytes: [UInt8]) -> Bool {
        guard let operations = try? OperationCodec.decode(bytes) else { return false }
        checkRoundTrip(operations, author: FuzzIdentity.alpha.company)
        return true
    }

    /// Parses a partner card (verified, then as stored); a card that parses must survive its own JSON form.
    /// - Returns: true if the card parsed and its signature verified.
    public static func partnerCard(_ bytes: [UInt8]) -> Bool {
        let stored = try? PartnerCard(storedJSON: bytes)
        guard let card = try? PartnerCard(json: bytes) else { return false }
        precondition(stored == card, "a verified card parses differently as stored")
        let again = try? PartnerCard(json: Array(card.json().utf8))
        precondition(again == card, "a card does not survive its own JSON form")
        return true
    }

    /// Parses a summary file; a summary that parses must survive its own JSON form.
    /// - Returns: true if the summary parsed.
    public static func summary(_ bytes: [UInt8]) -> Bool {
        guard let summary = try? Summary(json: bytes) else { return false }
        let again = try? Summary(json: Array(summary.json().utf8))
        precondition(again == summary, "a summary does not survive its own JSON form")
        return true
    }

    /// Decoded operations must re-encode to the same operations; authority validation must not trap.
    static func checkRoundTrip(_ operations: [Operation], author: CompanyID) {
        let again = try? OperationCodec.decode(OperationCodec.encode(operations))
        precondition(again == operations, "decoded operations do not survive re-encoding")
        for operation in operations { _ = operation.validate(author: author) }
    }
}
