import EntenteCore
import EntenteCrypto
import EntenteStore
import EntenteWire
public import Foundation

extension Node {
    /// The format tag of enrollment files.
    public static let enrollmentFormat = "entente-enrollment/1"

    private struct Enrollment: Codable {
        var format: String
        var card: String
        var encryption_key: String
        var replica_key: String
        var certificate: String
        var partners: [String]
    }

    /// Creates a new replica of this company (for example a laptop that works offline): a fresh replica key
    /// certified by the company key, with the company's encryption key and the pinned partner cards. The
    /// returned bytes hold secret keys: move them securely, then delete them. The new replica holds no
    /// company signing key, so it cannot enroll further replicas or issue cards.
    /// - Throws: `.keys` if this node has no company signing key.
    public func enrollReplica() throws(EntenteError) -> [UInt8] {
        guard let companyKey else {
            throw EntenteError(
                .keys,
                "this replica has no company signing key; enroll new replicas from the company's main node"
            )
        }
        let replicaKey = SigningKeyPair.generate()
        let certificate = ReplicaCertificate.issue(companyKey: companyKey, replicaKey: replicaKey.publicKey)
        let partners = try reading { tx in try tx.companies().filter { !$0.isSelf }.map { $0.card.json() } }
        let enrollment = Enrollment(
            format: Self.enrollmentFormat,
            card: card.json(),
            encryption_key: Hex.encode(encryptionKey.exportSecretKey()),
            replica_key: Hex.encode(replicaKey.exportSecretKey()),
            certificate: Hex.encode(certificate.signature),
            partners: partners
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(enrollment) else {
            throw EntenteError(.keys, "cannot encode the enrollment")
        }
        return [UInt8](data)
    }

    /// Creates a node directory for a replica enrolled with `enrollReplica()`. Sync it with a bundle exported
    /// by another replica of the company `--to` the company itself.
    public static func join(
        at directory: URL,
        enrollment bytes: [UInt8],
        options: Options = Options()
    ) throws(EntenteError) -> Node {
        let enrollment: Enrollment
        do { enrollment = try JSONDecoder().decode(Enrollment.self, from: Data(bytes)) } catch {
            throw EntenteError(.badInput, "not an enrollment file (expected the output of `entente replica enroll`)")
        }
        guard enrollment.format == enrollmentFormat else {
            throw EntenteError(
                .badInput,
                "enrollment format '\(enrollment.format)' is not supported (expected \(enrollmentFormat))"
            )
        }
        let card: PartnerCard
        do { card = try PartnerCard(json: Array(enrollment.card.utf8)) } catch {
            throw EntenteError(.badInput, "enrollment card: \(error)")
        }
        guard let boxSecret = Hex.decode(enrollment.encryption_key),
            let replicaSecret = Hex.decode(enrollment.replica_key),
            let signature = Hex.decode(enrollment.certificate),
            let encryptionKey = try? BoxKeyPair(secretKey: boxSecret),
            let replicaKey = try? SigningKeyPair(secretKey: replicaSecret)
        else { throw EntenteError(.badInput, "enrollment keys are not valid") }
        let certificate = ReplicaCertificate(
            company: card.company,
            replicaKey: replicaKey.publicKey,
            signature: signature
        )
        guard certificate.isValid(companyKey: card.signingKey), encryptionKey.publicKey == card.encryptionKey else {
            throw EntenteError(
                .badInput,
                "the enrollment's certificate or encryption key does not match its company card"
            )
        }
        let keys = try prepareDirectory(directory)
        try KeyFiles.write(
            [(.companyEncryption, encryptionKey.exportSecretKey()), (.replicaSigning, replicaKey.exportSecretKey())],
            in: keys,
            passphrase: options.passphrase
        )
        let store = try openStore(directory)
        do {
            try store.write { tx in
                try tx.setMeta("certificate", signature)
                try tx.saveCompany(card, isSelf: true)
                for json in enrollment.partners {
                    try tx.saveCompany(try PartnerCard(json: Array(json.utf8)), isSelf: false)
                }
            }
        } catch { throw EntenteError(.badInput, "cannot initialise the replica: \(error)", cause: error) }
        return try open(at: directory, options: options)
    }
}
