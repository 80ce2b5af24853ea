public import EntenteCore
public import EntenteCrypto

/// Ids derived from keys and nonces with BLAKE2b-128 and a domain-separation prefix.
public enum Derivation {
    static let companyPrefix = Array("entente/company/v1".utf8)
    static let replicaPrefix = Array("entente/replica/v1".utf8)
    static let objectPrefix = Array("entente/object/v1".utf8)

    /// The number of bytes in an object-creation nonce.
    public static let nonceByteCount = 16

    /// `BLAKE2b-128("entente/company/v1" || company signing public key)`.
    public static func companyID(for key: SigningPublicKey) -> CompanyID {
        id128(companyPrefix + key.bytes, CompanyID.self)
    }

    /// `BLAKE2b-128("entente/replica/v1" || replica signing public key)`.
    public static func replicaID(for key: SigningPublicKey) -> ReplicaID {
        id128(replicaPrefix + key.bytes, ReplicaID.self)
    }

    /// `BLAKE2b-128("entente/object/v1" || owner company id || nonce)`: only the owner's signature can
    /// create an object with this id, so no partner can claim another company's object.
    public static func objectID(owner: CompanyID, nonce: [UInt8]) -> ObjectID {
        id128(objectPrefix + owner.bytes + nonce, ObjectID.self)
    }

    /// A fresh object id for `owner`, with the nonce that proves it.
    public static func newObjectID(owner: CompanyID) -> (id: ObjectID, nonce: [UInt8]) {
        let nonce = secureRandomBytes(nonceByteCount)
        return (objectID(owner: owner, nonce: nonce), nonce)
    }

    private static func id128<ID: TypedID>(_ input: [UInt8], _: ID.Type) -> ID {
        let digest = BLAKE2b.hash(input, outputLength: 16)
        guard let raw = ID128(bytes: digest) else { preconditionFailure("BLAKE2b-128 returned \(digest.count) bytes") }
        return ID(raw: raw)
    }
}
