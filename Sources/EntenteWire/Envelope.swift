public import EntenteCore
public import EntenteCrypto

/// The BLAKE2b-256 hash of an envelope's bytes: its identity in logs and bundles.
public struct EnvelopeHash: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The 32 hash bytes.
    public let bytes: [UInt8]
    /// Wraps 32 bytes.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }
    fileprivate init(hashing data: [UInt8]) { bytes = BLAKE2b.hash(data, outputLength: 32) }
    /// Hex.
    public var description: String { Hex.encode(bytes) }
    /// Byte order.
    public static func < (lhs: EnvelopeHash, rhs: EnvelopeHash) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}

/// One audience company of an envelope: who, its per-(origin replica, recipient) sequence number, and the
/// content key sealed to its encryption key.
public struct Recipient: Hashable, Sendable {
    /// The recipient company.
    public let company: CompanyID
    /// The origin replica's counter for this recipient (1, 2, 3, ... without gaps).
    public let sequence: UInt64
    /// The envelope's content key, sealed with `crypto_box_seal` to the company's encryption key.
    public let sealedKey: [UInt8]
}

/// Who an envelope is for, as the sender supplies it.
public struct Addressee: Sendable {
    /// The company.
    public let company: CompanyID
    /// The company's X25519 encryption key (from its pinned card, or the sender's own).
    public let encryptionKey: BoxPublicKey
    /// The sequence number for this (origin replica, company) pair.
    public let sequence: UInt64

    /// Creates an addressee.
    public init(company: CompanyID, encryptionKey: BoxPublicKey, sequence: UInt64) {
        self.company = company
        self.encryptionKey = encryptionKey
        self.sequence = sequence
    }
}

/// A signed, encrypted batch of operations from one replica for one audience (format: `Specs/envelope.md`).
///
/// Anyone holding the origin company's key can check `verify` without decrypting; only an audience
/// company can `open` it.
public struct Envelope: Hashable, Sendable {
    /// The major format version written and read.
    public static let majorVersion: UInt8 = 1
    /// The minor format version written.
    public static let minorVersion: UInt8 = 0
    /// Largest encoded envelope accepted.
    public static let maxBytes = 16 << 20
    /// Most recipients of one envelope.
    public static let maxRecipients = 64
    static let magic = Array("ENTE".utf8)
    static let sealedKeyBytes = SymmetricKey.byteCount + 48
    /// The largest sequence number accepted (sequence numbers are stored as signed 64-bit integers).
    public static let maxSequence = UInt64(Int64.max)
    static let commitmentContext = Array("entente/content-key/v1".utf8)

    static func keyCommitment(_ key: [UInt8]) -> [UInt8] {
        BLAKE2b.hash(commitmentContext + key, outputLength: 32)
    }

    /// The minor version the writer used (readers accept any minor of a known major).
    public let minorVersion: UInt8
    /// Reserved header extension bytes: kept, signed, not interpreted by version 1.0.
    public let extensions: [UInt8]
    /// The origin replica's certificate.
    public let certificate: ReplicaCertificate
    /// The audience.
    public let recipients: [Recipient]
    /// The 24-byte XChaCha20-Poly1305 nonce.
    public let nonce: [UInt8]
    /// `BLAKE2b-256("entente/content-key/v1" || content key)`: binds every recipient to the same content key,
    /// because XChaCha20-Poly1305 alone does not commit to its key (one ciphertext could otherwise decrypt
    /// to different operations for different recipients).
    public let commitment: [UInt8]
    /// The encrypted operation batch with its 16-byte tag.
    public let ciphertext: [UInt8]
    /// The replica's Ed25519 signature over every preceding byte.
    public let signature: [UInt8]
    /// The complete encoding.
    public let bytes: [UInt8]
    /// Length of the header (the AEAD associated data): everything before the ciphertext length.
    let headerLength: Int

    /// The origin company.
    public var origin: CompanyID { certificate.company }
    /// The origin replica.
    public var replica: ReplicaID { certificate.replica }
    /// The BLAKE2b-256 of `bytes`, computed once when parsed.
    public let hash: EnvelopeHash
    /// The audience companies.
    public var audience: [CompanyID] { recipients.map(\.company) }

    /// Encrypts `operations` for `addressees` under a fresh content key and signs the result. `origins` let the
    /// batch name objects by their creation stamps (`OperationCodec.encode`).
    public static func seal(
        _ operations: [Operation],
        from credentials: ReplicaCredentials,
        to addressees: [Addressee],
        origins: [ObjectOrigin] = []
    ) throws(WireError) -> Envelope {
        guard addressees.allSatisfy({ (1...maxSequence).contains($0.sequence) }) else {
            throw WireError(.malformed, "sequence numbers must be in 1...\(maxSequence)")
        }
        guard !addressees.isEmpty, addressees.count <= maxRecipients else {
            throw WireError(.tooLarge, "an envelope needs 1...\(maxRecipients) recipients, not \(addressees.count)")
        }
        let contentKey = SymmetricKey.random()
        let keyBytes = contentKey.copyBytes()
        var writer = ByteWriter()
        writer.write(magic)
        writer.write(majorVersion)
        writer.write(minorVersion)
        writer.writeUInt16(0)
        writer.write(credentials.company.bytes)
        writer.write(credentials.certificate.replicaKey.bytes)
        writer.write(credentials.certificate.signature)
        writer.writeUInt16(UInt16(addressees.count))
        for addressee in addressees.sorted(by: { $0.company < $1.company }) {
            writer.write(addressee.company.bytes)
            writer.writeUInt64(addressee.sequence)
            writer.write(SealedBox.seal(keyBytes, to: addressee.encryptionKey))
        }
        let nonce = XChaCha20Poly1305.randomNonce()
        writer.write(nonce)
        writer.write(keyCommitment(keyBytes))
        let header = writer.bytes
        let ciphertext: [UInt8]
        do {
            ciphertext = try XChaCha20Poly1305.seal(
                OperationCodec.encode(operations, origins: origins),
                key: contentKey,
                nonce: nonce,
                associatedData: header
            )
        } catch {
            throw WireError(.decryptionFailed, "could not encrypt the payload: \(error)")
        }
        guard header.count + 4 + ciphertext.count + 64 <= maxBytes else {
            throw WireError(
                .tooLarge,
                "the envelope would exceed \(maxBytes) bytes; send fewer operations per envelope"
            )
        }
        writer.writeUInt32(UInt32(ciphertext.count))
        writer.write(ciphertext)
        writer.write(credentials.key.signature(for: writer.bytes))
        return try Envelope(parsing: writer.bytes)
    }

    /// Parses an envelope's structure (no signature check: see `verify`).
    public init(parsing bytes: [UInt8]) throws(WireError) {
        guard bytes.count <= Self.maxBytes else {
            throw WireError(.tooLarge, "envelope of \(bytes.count) bytes exceeds the limit of \(Self.maxBytes)")
        }
        var reader = ByteReader(bytes, what: "envelope")
        guard try reader.readBytes(4, "magic") == Self.magic else {
            throw WireError(.malformed, "not an Entente envelope (bad magic bytes)")
        }
        let major = try reader.readByte("major version")
        guard major == Self.majorVersion else {
            throw WireError(
                .unsupportedVersion,
                "envelope format \(major).x is not supported (this build reads 1.x); upgrade entente"
            )
        }
        minorVersion = try reader.readByte("minor version")
        let extensionLength = try reader.readUInt16("extension length")
        extensions = try reader.readBytes(Int(extensionLength), "extensions")
        guard let company = CompanyID(bytes: try reader.readBytes(16, "origin company")) else {
            throw reader.malformed("origin company")
        }
        let replicaKeyBytes = try reader.readBytes(32, "replica key")
        let replicaKey: SigningPublicKey
        do { replicaKey = try SigningPublicKey(bytes: replicaKeyBytes) } catch {
            throw reader.malformed("replica key")
        }
        certificate = ReplicaCertificate(
            company: company,
            replicaKey: replicaKey,
            signature: try reader.readBytes(64, "certificate signature")
        )
        let count = Int(try reader.readUInt16("recipient count"))
        guard count >= 1, count <= Self.maxRecipients else {
            throw WireError(.malformed, "envelope has \(count) recipients; 1...\(Self.maxRecipients) are allowed")
        }
        var recipients = [Recipient]()
        var previous: CompanyID?
        for _ in 0..<count {
            guard let recipient = CompanyID(bytes: try reader.readBytes(16, "recipient")) else {
                throw reader.malformed("recipient")
            }
            if let previous, previous >= recipient {
                throw reader.malformed("recipients are not in strictly ascending order")
            }
            previous = recipient
            let sequence = try reader.readUInt64("sequence")
            guard sequence >= 1, sequence <= Self.maxSequence else {
                throw reader.malformed("sequence number \(sequence) is outside 1...\(Self.maxSequence)")
            }
            let sealed = try reader.readBytes(Self.sealedKeyBytes, "sealed key")
            recipients.append(Recipient(company: recipient, sequence: sequence, sealedKey: sealed))
        }
        self.recipients = recipients
        nonce = try reader.readBytes(XChaCha20Poly1305.nonceByteCount, "nonce")
        commitment = try reader.readBytes(32, "key commitment")
        headerLength = reader.offset
        let length = Int(try reader.readUInt32("ciphertext length"))
        guard length >= XChaCha20Poly1305.tagByteCount else {
            throw reader.malformed("ciphertext shorter than its tag")
        }
        ciphertext = try reader.readBytes(length, "ciphertext")
        signature = try reader.readBytes(64, "signature")
        guard reader.isAtEnd else { throw reader.malformed("\(reader.remaining) unexpected bytes after the signature") }
        self.bytes = bytes
        hash = EnvelopeHash(hashing: bytes)
    }

    /// Checks that the certificate chains to `companyKey` and the replica's signature covers every byte.
    public func verify(companyKey: SigningPublicKey) throws(WireError) {
        guard certificate.isValid(companyKey: companyKey) else {
            throw WireError(.badCertificate, "envelope's replica certificate is not signed by company \(origin.short)")
        }
        guard certificate.replicaKey.isValidSignature(signature, for: Array(bytes[..<(bytes.count - 64)])) else {
            throw WireError(
                .badSignature,
                "envelope from company \(origin.short) has an invalid signature (tampered or corrupted)"
            )
        }
    }

    /// Decrypts the payload as `company` and decodes its operations, checking that every created object's
    /// id is bound to the origin company.
    public func open(as company: CompanyID, with keyPair: BoxKeyPair) throws(WireError) -> [Operation] {
        guard let recipient = recipients.first(where: { $0.company == company }) else {
            throw WireError(
                .notAddressedToUs,
                "envelope from \(origin.short) is not addressed to company \(company.short)"
            )
        }
        let plaintext: [UInt8]
        do {
            let keyBytes = try SealedBox.open(recipient.sealedKey, with: keyPair)
            guard Self.keyCommitment(keyBytes) == commitment else {
                throw WireError(
                    .decryptionFailed,
                    "envelope from \(origin.short) seals a content key that does not match its commitment"
                )
            }
            let key = try SymmetricKey(bytes: keyBytes)
            plaintext = try XChaCha20Poly1305.open(
                ciphertext,
                key: key,
                nonce: nonce,
                associatedData: Array(bytes[..<headerLength])
            )
        } catch {
            throw WireError(.decryptionFailed, "envelope from \(origin.short) could not be decrypted: \(error)")
        }
        let operations = try OperationCodec.decode(plaintext)
        for operation in operations {
            if case .create(_, let nonce) = operation.kind,
                Derivation.objectID(owner: origin, nonce: nonce) != operation.object
            {
                throw WireError(
                    .badObjectID,
                    "envelope from \(origin.short) creates object \(operation.object.short), which it does not own"
                )
            }
        }
        return operations
    }
}
