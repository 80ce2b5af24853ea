public import EntenteCore
public import EntenteCrypto
import Foundation

/// A company's public identity, exchanged out of band and pinned: name, keys, optional address,
/// self-signed by the company key (format: `Specs/envelope.md`, "Partner cards").
public struct PartnerCard: Hashable, Sendable {
    /// The format tag written in the JSON form.
    public static let format = "entente-card/1"

    /// The company's display name.
    public let name: String
    /// The company's Ed25519 public key (the root of trust for its replicas).
    public let signingKey: SigningPublicKey
    /// The company's X25519 key, to which envelope content keys are sealed.
    public let encryptionKey: BoxPublicKey
    /// An optional network address (`host:port`).
    public let address: String?
    /// Ed25519 signature by the company key over the card's canonical bytes.
    public let signature: [UInt8]

    /// The company id derived from the signing key.
    public var company: CompanyID { Derivation.companyID(for: signingKey) }

    /// Issues a card signed by the company key.
    public static func issue(
        name: String,
        companyKey: SigningKeyPair,
        encryptionKey: BoxPublicKey,
        address: String?
    ) -> PartnerCard {
        let address = address?.isEmpty == true ? nil : address
        let unsigned = canonicalBytes(
            name: name,
            signingKey: companyKey.publicKey,
            encryptionKey: encryptionKey,
            address: address
        )
        return PartnerCard(
            name: name,
            signingKey: companyKey.publicKey,
            encryptionKey: encryptionKey,
            address: address,
            signature: companyKey.signature(for: unsigned)
        )
    }

    private init(
        name: String,
        signingKey: SigningPublicKey,
        encryptionKey: BoxPublicKey,
        address: String?,
        signature: [UInt8]
    ) {
        self.name = name
        self.signingKey = signingKey
        self.encryptionKey = encryptionKey
        self.address = address
        self.signature = signature
    }

    static func canonicalBytes(
        name: String,
        signingKey: SigningPublicKey,
        encryptionKey: BoxPublicKey,
        address: String?
    ) -> [UInt8] {
        var writer = ByteWriter()
        writer.write(Array("entente/card/v1".utf8))
        writer.writeString(name)
        writer.write(signingKey.bytes)
        writer.write(encryptionKey.bytes)
        writer.writeString(address ?? "")
        return writer.bytes
    }

    /// Longest company name accepted, in UTF-8 bytes.
    public static let maxNameBytes = 100

    private struct JSONForm: Codable {
        var format: String
        var name: String
        var company: String
        var signing_key: String
        var encryption_key: String
        var address: String?
        var signature: String
    }

    /// The card as pretty-printed JSON (what `entente card` prints).
    public func json() -> String {
        let form = JSONForm(
            format: Self.format,
            name: name,
            company: company.hex,
            signing_key: Hex.encode(signingKey.bytes),
            encryption_key: Hex.encode(encryptionKey.bytes),
            address: address,
            signature: Hex.encode(signature)
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(form) else { return "{}" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// Parses and verifies a card: format tag, hex fields, company id, self-signature.
    public init(json data: [UInt8]) throws(WireError) {
        try self.init(json: data, verifySignature: true)
    }

    /// Parses a card this node stored when it pinned it (after `init(json:)` verified it): the signature check,
    /// an Ed25519 verification, is not repeated on every lookup.
    package init(storedJSON data: [UInt8]) throws(WireError) {
        try self.init(json: data, verifySignature: false)
    }

    private init(json data: [UInt8], verifySignature: Bool) throws(WireError) {
        guard data.count <= 64 * 1024 else {
            throw WireError(.tooLarge, "partner card is over 64 KiB; is this the right file?")
        }
        let form: JSONForm
        do { form = try JSONDecoder().decode(JSONForm.self, from: Data(data)) } catch {
            throw WireError(.malformed, "partner card is not valid card JSON (expected the output of `entente card`)")
        }
        guard form.format == Self.format else {
            throw WireError(
                .unsupportedVersion,
                "partner card format '\(form.format)' is not supported (expected \(Self.format))"
            )
        }
        guard !form.name.isEmpty, form.name.utf8.count <= Self.maxNameBytes else {
            throw WireError(.malformed, "partner card has an empty or over-long company name")
        }
        guard let signingBytes = Hex.decode(form.signing_key),
            let signingKey = try? SigningPublicKey(bytes: signingBytes)
        else {
            throw WireError(.malformed, "partner card's signing_key is not a 32-byte hex key")
        }
        guard let boxBytes = Hex.decode(form.encryption_key), let encryptionKey = try? BoxPublicKey(bytes: boxBytes)
        else {
            throw WireError(.malformed, "partner card's encryption_key is not a 32-byte hex key")
        }
        guard let signature = Hex.decode(form.signature), signature.count == 64 else {
            throw WireError(.malformed, "partner card's signature is not 64 hex-encoded bytes")
        }
        let card = PartnerCard(
            name: form.name,
            signingKey: signingKey,
            encryptionKey: encryptionKey,
            address: form.address?.isEmpty == true ? nil : form.address,
            signature: signature
        )
        guard card.company.hex == form.company.lowercased() else {
            throw WireError(.badCertificate, "partner card's company id does not match its signing key")
        }
        let unsigned = Self.canonicalBytes(
            name: card.name,
            signingKey: signingKey,
            encryptionKey: encryptionKey,
            address: card.address
        )
        guard !verifySignature || signingKey.isValidSignature(signature, for: unsigned) else {
            throw WireError(
                .badSignature,
                "partner card's signature does not verify: it was altered after it was issued"
            )
        }
        self = card
    }
}
