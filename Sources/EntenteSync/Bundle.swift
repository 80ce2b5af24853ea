import EntenteCore
import EntenteCrypto
public import EntenteWire

/// A file of envelopes for offline transfer (format: `Specs/envelope.md`, "Bundles").
///
/// A bundle only carries envelopes as they are: signed and encrypted by their origin. Its trailing BLAKE2b
/// checksum catches truncation and corruption before any envelope is looked at.
public struct Bundle: Sendable {
    static let magic = Array("ENTB".utf8)
    /// The major format version written and read.
    public static let majorVersion: UInt8 = 1
    /// Most envelopes in one bundle.
    public static let maxEnvelopes = 1_000_000
    /// Largest bundle file read.
    public static let maxBytes = 1 << 31

    /// The encoded envelopes, in order.
    public let envelopes: [[UInt8]]
    /// Replica revocations carried in the extension area (record type 1), at most `maxRevocations`.
    public let revocations: [ReplicaRevocation]
    /// Most revocations one bundle carries (they must fit the 64 KiB extension area).
    public static let maxRevocations = 600
    static let revocationRecord: UInt8 = 1

    /// Wraps encoded envelopes and revocations (beyond `maxRevocations`, the first ones are kept).
    public init(envelopes: [[UInt8]], revocations: [ReplicaRevocation] = []) {
        self.envelopes = envelopes
        self.revocations = Array(revocations.prefix(Self.maxRevocations))
    }

    /// The bundle's bytes.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: envelopes.reduce(48) { $0 + $1.count + 4 })
        writer.write(Self.head(revocations: revocations, count: envelopes.count))
        for envelope in envelopes { writer.write(Self.frame(envelope)) }
        writer.write(BLAKE2b.hash(writer.bytes, outputLength: 32))
        return writer.bytes
    }

    /// What precedes the envelopes: magic, version, the extension area (type 1: revocations), the count.
    static func head(revocations: [ReplicaRevocation], count: Int) -> [UInt8] {
        var writer = ByteWriter()
        writer.write(Self.magic)
        writer.write(Self.majorVersion)
        writer.write(0)
        var extensions = ByteWriter()
        if !revocations.isEmpty {
            extensions.write(Self.revocationRecord)
            extensions.writeUInt16(UInt16(revocations.count * ReplicaRevocation.byteCount))
            for revocation in revocations { extensions.write(revocation.encoded()) }
        }
        writer.writeUInt16(UInt16(extensions.bytes.count))
        writer.write(extensions.bytes)
        writer.writeUInt32(UInt32(count))
        return writer.bytes
    }

    /// One envelope as a bundle holds it: its length, then its bytes.
    static func frame(_ envelope: [UInt8]) -> [UInt8] {
        var writer = ByteWriter(capacity: envelope.count + 4)
        writer.writeUInt32(UInt32(envelope.count))
        writer.write(envelope)
        return writer.bytes
    }

    /// Parses a bundle: magic, version, checksum, then each envelope's length (envelopes are parsed and
    /// verified by the importer).
    public init(decoding bytes: [UInt8]) throws(WireError) {
        try Self.checkStart(bytes.prefix(5), size: bytes.count)
        let body = Array(bytes[..<(bytes.count - 32)])
        guard BLAKE2b.hash(body, outputLength: 32) == Array(bytes[(bytes.count - 32)...]) else {
            throw Self.checksumMismatch
        }
        var reader = ByteReader(body, what: "bundle")
        let (revocations, count) = try Self.readHead { count, what throws(WireError) in
            try reader.readBytes(count, what)
        }
        var envelopes = [[UInt8]]()
        envelopes.reserveCapacity(min(count, reader.remaining / 200))
        for index in 0..<count {
            envelopes.append(
                try Self.readEnvelope(index) { count, what throws(WireError) in try reader.readBytes(count, what) }
            )
        }
        guard reader.isAtEnd else {
            throw reader.malformed("\(reader.remaining) unexpected bytes after the last envelope")
        }
        self.envelopes = envelopes
        self.revocations = revocations
    }

    /// Checks what can be checked before the checksum, from the first 5 bytes and the size: the size limit, the
    /// magic, room for a head and a checksum, the major version.
    static func checkStart(_ start: ArraySlice<UInt8>, size: Int) throws(WireError) {
        guard size <= maxBytes else { throw WireError(.tooLarge, "bundle of \(size) bytes is over the limit") }
        guard start.count >= 4, Array(start.prefix(4)) == magic else {
            throw WireError(
                .malformed,
                "not an Entente bundle (bad magic bytes; expected a file from `entente bundle export`)"
            )
        }
        guard size >= 12 + 32 else { throw WireError(.truncated, "bundle is truncated: only \(size) bytes") }
        let version = start[start.startIndex + 4]
        guard version == majorVersion else {
            throw WireError(.unsupportedVersion, "bundle format \(version).x is not supported (this build reads 1.x)")
        }
    }

    static let checksumMismatch = WireError(
        .malformed,
        "bundle checksum does not match: the file is truncated or corrupted (re-export it)"
    )

    /// Reads the head (after the checksum was checked) with `read`, which returns exactly the bytes asked for:
    /// the revocations and the envelope count.
    static func readHead(
        _ read: (Int, String) throws(WireError) -> [UInt8]
    ) throws(WireError) -> (revocations: [ReplicaRevocation], count: Int) {
        _ = try read(6, "header")
        var length = ByteReader(try read(2, "extension length"), what: "bundle")
        let extensionLength = Int(try length.readUInt16("extension length"))
        var extensions = ByteReader(try read(extensionLength, "extensions"), what: "bundle extensions")
        var revocations: [ReplicaRevocation] = []
        while !extensions.isAtEnd {
            let type = try extensions.readByte("extension record type")
            let length = Int(try extensions.readUInt16("extension record length"))
            let value = try extensions.readBytes(length, "extension record")
            guard type == Self.revocationRecord else { continue }  // unknown records are skipped
            guard length % ReplicaRevocation.byteCount == 0 else {
                throw WireError(.malformed, "the bundle's revocation record is not a whole number of revocations")
            }
            var records = ByteReader(value, what: "revocations")
            while !records.isAtEnd { revocations.append(try ReplicaRevocation(reading: &records)) }
        }
        var counter = ByteReader(try read(4, "envelope count"), what: "bundle")
        let count = Int(try counter.readUInt32("envelope count"))
        guard count <= Self.maxEnvelopes else {
            throw WireError(.tooLarge, "bundle claims \(count) envelopes, over the limit")
        }
        return (revocations, count)
    }

    /// Reads envelope `index` (0-based): its length, checked against the envelope limit, then its bytes.
    static func readEnvelope(
        _ index: Int,
        _ read: (Int, String) throws(WireError) -> [UInt8]
    ) throws(WireError) -> [UInt8] {
        var lengthReader = ByteReader(try read(4, "length of envelope \(index + 1)"), what: "bundle")
        let length = Int(try lengthReader.readUInt32("length of envelope \(index + 1)"))
        guard length <= Envelope.maxBytes else {
            throw WireError(.tooLarge, "envelope \(index + 1) of the bundle is \(length) bytes, over the limit")
        }
        return try read(length, "envelope \(index + 1)")
    }
}
