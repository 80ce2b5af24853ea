import EntenteCore
import EntenteCrypto
import EntenteWire

/// One company with one replica, built from fixed seeds so every run (and every committed seed) uses the same
/// keys.
struct FuzzIdentity: Sendable {
    let companyKey: SigningKeyPair
    let replicaKey: SigningKeyPair
    let boxKeys: BoxKeyPair
    let credentials: ReplicaCredentials

    var company: CompanyID { credentials.company }
    var replica: ReplicaID { credentials.replica }

    init(seed: UInt8) {
        do {
            companyKey = try SigningKeyPair(seed: Self.bytes(seed, 1))
            replicaKey = try SigningKeyPair(seed: Self.bytes(seed, 2))
            boxKeys = try BoxKeyPair(secretKey: Self.bytes(seed, 3))
        } catch {
            preconditionFailure("fixed fuzz keys are invalid: \(error)")
        }
        credentials = ReplicaCredentials(
            key: replicaKey,
            certificate: ReplicaCertificate.issue(companyKey: companyKey, replicaKey: replicaKey.publicKey)
        )
    }

    private static func bytes(_ seed: UInt8, _ purpose: UInt8) -> [UInt8] {
        (0..<32).map { UInt8(truncatingIfNeeded: Int(seed) &* 31 &+ Int(purpose) &* 7 &+ $0) }
    }

    /// The sender of the seed envelopes and the client of the sync sessions ("Alpha").
    static let alpha = FuzzIdentity(seed: 1)
    /// The recipient of the seed envelopes and the server of the sync sessions ("Beta").
    static let beta = FuzzIdentity(seed: 2)
    /// A third company, pinned by nobody.
    static let gamma = FuzzIdentity(seed: 3)

    /// The company keys every fuzzed node trusts.
    static let partners: [CompanyID: SigningPublicKey] = [
        alpha.company: alpha.companyKey.publicKey, beta.company: beta.companyKey.publicKey,
    ]
}
