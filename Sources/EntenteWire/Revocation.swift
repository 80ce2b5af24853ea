public import EntenteCore
public import EntenteCrypto

/// A company's signed statement that one of its replica keys is revoked (a lost laptop): partners that hold
/// it refuse every envelope that replica signed and they do not already hold, and refuse it at the network
/// handshake. Statements travel in bundles (`Specs/keys.md`, "Revocation").
public struct ReplicaRevocation: Hashable, Sendable {
    /// The encoded size: company (16), replica (16), time (8), signature (64).
    public static let byteCount = 104
    static let context = Array("entente/replica-revocation/v1".utf8)

    /// The company that revokes.
    public let company: CompanyID
    /// The revoked replica.
    public let replica: ReplicaID
    /// When it was revoked (ms since 1970, UTC; informative).
    public let revokedAt: UInt64
    /// Ed25519 signature by the company key over `context || company || replica || revokedAt (u64 BE)`.
    public let signature: [UInt8]

    /// Assembles a statement (no check; call `isValid`).
    public init(company: CompanyID, replica: ReplicaID, revokedAt: UInt64, signature: [UInt8]) {
        self.company = company
        self.replica = replica
        self.revokedAt = revokedAt
        self.signature = signature
    }

    /// Issues a statement signed by the company key.
    public static func issue(companyKey: SigningKeyPair, replica: ReplicaID, at time: UInt64) -> ReplicaRevocation {
        let company = Derivation.companyID(for: companyKey.publicKey)
        let signature = companyKey.signature(for: signedBytes(company: company, replica: replica, at: time))
        return ReplicaRevocation(company: company, replica: replica, revokedAt: time, signature: signature)
    }

    /// True if `companyKey` is the revoking company's key and the signature verifies.
    public func isValid(companyKey: SigningPublicKey) -> Bool {
        Derivation.companyID(for: companyKey) == company
            && companyKey.isValidSignature(
                signature,
                for: Self.signedBytes(company: company, replica: replica, at: revokedAt)
            )
    }

    static func signedBytes(company: CompanyID, replica: ReplicaID, at time: UInt64) -> [UInt8] {
        var writer = ByteWriter(capacity: 72)
        writer.write(context)
        writer.write(company.bytes)
        writer.write(replica.bytes)
        writer.writeUInt64(time)
        return writer.bytes
    }

    /// The 104 encoded bytes.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: Self.byteCount)
        writer.write(company.bytes)
        writer.write(replica.bytes)
        writer.writeUInt64(revokedAt)
        writer.write(signature)
        return writer.bytes
    }

    /// Decodes 104 bytes (the signature is not checked here).
    public init(decoding bytes: [UInt8]) throws(WireError) {
        var reader = ByteReader(bytes, what: "revocation")
        try self.init(reading: &reader)
        guard reader.isAtEnd else { throw reader.malformed("unexpected bytes after the revocation") }
    }

    package init(reading reader: inout ByteReader) throws(WireError) {
        guard let company = CompanyID(bytes: try reader.readBytes(16, "revoking company")),
            let replica = ReplicaID(bytes: try reader.readBytes(16, "revoked replica"))
        else { throw reader.malformed("revocation ids are not 16 bytes") }
        let time = try reader.readUInt64("revocation time")
        let signature = try reader.readBytes(64, "revocation signature")
        self.init(company: company, replica: replica, revokedAt: time, signature: signature)
    }
}
