public import EntenteCore
public import EntenteCrypto

/// Ids derived from keys and nonces with BLAKE2b-128 and a domain-separation prefix.
public enum Derivation {
    static let companyPrefix = Array("entente/company/v1".utf8)
    static let replicaPrefix = Array("entente/replica/v1".utf8)
    static let objectPrefix = Array("entente/object/v1".utf8)
    static let stampPrefix = Array("entente/object-nonce/v1".utf8)

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

    /// `BLAKE2b-128("entente/object-nonce/v1" || replica id || physical (u64, big-endian) || counter (u32,
    /// big-endian))`: the nonce of an object created by the operation stamped `created`. A timestamp is unique
    /// to one operation of one replica, so the nonce is too, and a batch can name the object by its creation
    /// stamp instead of its 16-byte id (`Specs/envelope.md`, "Version 3").
    public static func nonce(created: Timestamp) -> [UInt8] {
        var input = ByteWriter(capacity: stampPrefix.count + 28)
        input.write(stampPrefix)
        input.write(created.replica.bytes)
        input.writeUInt64(created.physical)
        input.writeUInt32(created.counter)
        return BLAKE2b.hash(input.bytes, outputLength: nonceByteCount)
    }

    /// The id and nonce of the object `owner` creates with the operation stamped `created`.
    public static func objectID(owner: CompanyID, created: Timestamp) -> (id: ObjectID, nonce: [UInt8]) {
        let nonce = nonce(created: created)
        return (objectID(owner: owner, nonce: nonce), nonce)
    }

    private static func id128<ID: TypedID>(_ input: [UInt8], _: ID.Type) -> ID {
        let digest = BLAKE2b.hash(input, outputLength: 16)
        guard let raw = ID128(bytes: digest) else { preconditionFailure("BLAKE2b-128 returned \(digest.count) bytes") }
        return ID(raw: raw)
    }
}
