public import EntenteCore
public import EntenteCrypto

/// A company's signature on one of its replica keys: proof that the replica speaks for the company.
public struct ReplicaCertificate: Hashable, Sendable {
    /// The certifying company.
    public let company: CompanyID
    /// The replica's Ed25519 public key.
    public let replicaKey: SigningPublicKey
    /// Ed25519 signature by the company key over `"entente/replica-cert/v1" || company || replicaKey`.
    public let signature: [UInt8]

    static let context = Array("entente/replica-cert/v1".utf8)

    /// Assembles a certificate from its parts (no check; call `verify`).
    public init(company: CompanyID, replicaKey: SigningPublicKey, signature: [UInt8]) {
        self.company = company
        self.replicaKey = replicaKey
        self.signature = signature
    }

    /// The replica's id.
    public var replica: ReplicaID { Derivation.replicaID(for: replicaKey) }

    /// Issues a certificate for `replicaKey`, signed by the company key.
    public static func issue(companyKey: SigningKeyPair, replicaKey: SigningPublicKey) -> ReplicaCertificate {
        let company = Derivation.companyID(for: companyKey.publicKey)
        let signature = companyKey.signature(for: signedBytes(company: company, replicaKey: replicaKey))
        return ReplicaCertificate(company: company, replicaKey: replicaKey, signature: signature)
    }

    /// True if `companyKey` is the certifying company's key and its signature verifies.
    public func isValid(companyKey: SigningPublicKey) -> Bool {
        Derivation.companyID(for: companyKey) == company
            && companyKey.isValidSignature(signature, for: Self.signedBytes(company: company, replicaKey: replicaKey))
    }

    static func signedBytes(company: CompanyID, replicaKey: SigningPublicKey) -> [UInt8] {
        context + company.bytes + replicaKey.bytes
    }
}

/// What a replica needs to issue envelopes: its company, its key pair and its certificate.
public struct ReplicaCredentials: Sendable {
    /// The replica's signing key pair.
    public let key: SigningKeyPair
    /// The company's certificate for that key.
    public let certificate: ReplicaCertificate

    /// Bundles credentials; the certificate must be for `key`.
    public init(key: SigningKeyPair, certificate: ReplicaCertificate) {
        precondition(certificate.replicaKey == key.publicKey, "certificate is for another replica key")
        self.key = key
        self.certificate = certificate
    }

    /// The company.
    public var company: CompanyID { certificate.company }
    /// The replica.
    public var replica: ReplicaID { certificate.replica }
}
