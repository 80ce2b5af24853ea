import EntenteCrypto
import EntenteTestSupport
import EntenteWire
import Foundation
import Testing

@testable import EntenteSync

private typealias Bundle = EntenteSync.Bundle

@Suite("Bundle")
struct BundleTests {
    /// Envelope bodies of assorted sizes (Bundle does not parse them, so any bytes will do).
    private func bodies(_ count: Int, seed: UInt64, maxSize: Int = 1_500) -> [[UInt8]] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in rng.bytes(rng.int(0...maxSize)) }
    }

    /// Appends a valid checksum to `body`, to build structurally broken bundles that pass the checksum.
    private func withChecksum(_ body: [UInt8]) -> [UInt8] {
        body + BLAKE2b.hash(body, outputLength: 32)
    }

    private func header(count: UInt32) -> [UInt8] {
        Array("ENTB".utf8) + [1, 0, 0, 0] + be32(count)
    }

    private func be32(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    /// Decodes `bytes` in memory and, written to a file, with ``BundleFileReader``: both must agree (the same
    /// envelopes and revocations, or the same kind of error). Returns the in-memory error.
    private func decode(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> WireError? {
        var decoded: Bundle?
        let memory = wireError { () throws(WireError) in decoded = try Bundle(decoding: bytes) }
        let file: WireError?
        do {
            let read = try readFile(bytes)
            file = read.error
            if let decoded, file == nil {
                #expect(read.envelopes == decoded.envelopes, sourceLocation: sourceLocation)
                #expect(read.revocations == decoded.revocations, sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record("the bundle file could not be written or read: \(error)", sourceLocation: sourceLocation)
            return memory
        }
        #expect(
            file?.code == memory?.code,
            "file: \(String(describing: file)), memory: \(String(describing: memory))",
            sourceLocation: sourceLocation
        )
        return memory
    }

    /// Writes `bytes` to a file and reads it with ``BundleFileReader``, every envelope, to the end.
    private func readFile(
        _ bytes: [UInt8],
        change: ((FileHandle) throws -> Void)? = nil
    ) throws -> (envelopes: [[UInt8]], revocations: [ReplicaRevocation], error: WireError?) {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bundle-\(UUID().uuidString)")
        try Data(bytes).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let handle = try FileHandle(forUpdating: url)
        defer { try? handle.close() }
        var envelopes: [[UInt8]] = []
        var revocations: [ReplicaRevocation] = []
        let error = wireError { () throws(WireError) in
            let reader = try BundleFileReader(handle: handle)
            revocations = reader.revocations
            #expect(reader.count >= 0)
            if let change, let other = try? FileHandle(forUpdating: url) {
                // Through a handle of its own: the reader's keeps its position.
                try? change(other)
                try? other.close()
            }
            while let envelope = try reader.next() { envelopes.append(envelope) }
            #expect(envelopes.count == reader.count)
            #expect(try reader.next() == nil)
        }
        return (envelopes, revocations, error)
    }

    @Test("bundles of 0, 1 and many envelopes of various sizes round-trip", arguments: [0, 1, 2, 25])
    func roundTrip(count: Int) throws {
        let envelopes = bodies(count, seed: UInt64(count) + 100)
        let encoded = Bundle(envelopes: envelopes).encoded()
        #expect(try Bundle(decoding: encoded).envelopes == envelopes)
        #expect(encoded.count == 12 + envelopes.reduce(0) { $0 + 4 + $1.count } + 32)
    }

    @Test("empty envelope bodies and a large one survive")
    func edgeSizes() throws {
        var rng = SplitMix64(seed: 7)
        let envelopes: [[UInt8]] = [[], [0], rng.bytes(70_000), []]
        #expect(try Bundle(decoding: Bundle(envelopes: envelopes).encoded()).envelopes == envelopes)
    }

    @Test("the encoding follows the documented layout")
    func layout() throws {
        let envelopes: [[UInt8]] = [[0xAA, 0xBB, 0xCC], [], [0x01]]
        let encoded = Bundle(envelopes: envelopes).encoded()
        var expected = header(count: 3)
        expected += be32(3) + [0xAA, 0xBB, 0xCC] + be32(0) + be32(1) + [0x01]
        expected += BLAKE2b.hash(expected, outputLength: 32)
        #expect(encoded == expected)
        #expect(try Bundle(decoding: expected).envelopes == envelopes)
    }

    @Test("every truncation throws")
    func everyTruncation() {
        let encoded = Bundle(envelopes: bodies(3, seed: 8, maxSize: 40)).encoded()
        var decoded: [Int] = []
        for length in 0..<encoded.count where decode(Array(encoded[..<length])) == nil {
            decoded.append(length)
        }
        #expect(decoded.isEmpty, "truncated lengths that decoded: \(decoded)")
    }

    @Test("flipping any single byte throws")
    func everyByteFlip() {
        let encoded = Bundle(envelopes: bodies(3, seed: 9, maxSize: 40)).encoded()
        var decoded: [Int] = []
        for index in encoded.indices {
            for mask in [UInt8(0x01), 0x80, 0xFF] {
                var bytes = encoded
                bytes[index] ^= mask
                if decode(bytes) == nil { decoded.append(index) }
            }
        }
        #expect(decoded.isEmpty, "byte flips that went unnoticed at offsets \(decoded)")
    }

    @Test("flipped payload bytes are reported as a checksum mismatch")
    func checksumMessage() {
        var bytes = Bundle(envelopes: bodies(2, seed: 10, maxSize: 40)).encoded()
        bytes[14] ^= 0x01
        let error = decode(bytes)
        #expect(error?.code == .malformed)
        #expect(error?.message.contains("checksum") == true)
    }

    @Test(
        "bad magic is refused with a message that says so",
        arguments: [[UInt8](), Array("ENT".utf8), Array("ENTE".utf8), Array("PK\u{3}\u{4}".utf8)]
    )
    func badMagic(prefix: [UInt8]) {
        var bytes = Bundle(envelopes: bodies(1, seed: 11, maxSize: 10)).encoded()
        bytes.replaceSubrange(0..<4, with: prefix)
        let error = decode(bytes)
        #expect(error?.code == .malformed)
        #expect(error?.message.contains("magic") == true)
    }

    @Test("major version 2 is refused as not supported", arguments: [UInt8(2), 0, 0xFF])
    func unsupportedVersion(version: UInt8) {
        var bytes = Bundle(envelopes: bodies(1, seed: 12, maxSize: 10)).encoded()
        bytes[4] = version
        let error = decode(bytes)
        #expect(error?.code == .unsupportedVersion)
        #expect(error?.message.contains("not supported") == true)
        #expect(error?.message.contains("\(version).x") == true)
    }

    @Test("a file shorter than a header and checksum is truncated")
    func tooShort() {
        let error = decode(Array("ENTB".utf8) + [1])
        #expect(error?.code == .truncated)
        #expect(decode(withChecksum(Array("ENTB".utf8) + [1, 0, 0, 0]))?.code == .truncated)
    }

    @Test("a checksum-valid bundle that claims more envelopes than it holds is truncated")
    func countTooHigh() {
        let body = header(count: 2) + be32(2) + [1, 2]
        let error = decode(withChecksum(body))
        #expect(error?.code == .truncated)
        #expect(error?.message.contains("envelope 2") == true)
        // An envelope length that runs past the end is truncated too.
        #expect(decode(withChecksum(header(count: 1) + be32(5) + [1, 2]))?.code == .truncated)
    }

    @Test("a checksum-valid bundle with bytes after the last envelope is malformed")
    func trailingBytes() {
        let error = decode(withChecksum(header(count: 1) + be32(1) + [7] + [0, 0]))
        #expect(error?.code == .malformed)
    }

    @Test("oversized counts and envelope lengths are refused without allocating")
    func limits() {
        #expect(decode(withChecksum(header(count: UInt32(Bundle.maxEnvelopes) + 1)))?.code == .tooLarge)
        #expect(decode(withChecksum(header(count: UInt32.max)))?.code == .tooLarge)
        #expect(decode(withChecksum(header(count: 1) + be32(UInt32(Envelope.maxBytes) + 1)))?.code == .tooLarge)
        // A huge but allowed count with nothing behind it is merely truncated.
        #expect(decode(withChecksum(header(count: UInt32(Bundle.maxEnvelopes))))?.code == .truncated)
    }

    @Test("random garbage never traps")
    func fuzz() {
        var rng = SplitMix64(seed: 13)
        var decoded = 0
        for round in 0..<2_000 {
            var bytes = rng.bytes(rng.int(0...120))
            if round % 2 == 0 { bytes = withChecksum(header(count: UInt32(rng.int(0...3))) + bytes) }
            if decode(bytes) == nil { decoded += 1 }
        }
        // Random bodies behind a valid header and checksum occasionally form a valid bundle; plain noise never.
        #expect(decoded < 1_000)
    }

    @Test("a bundle file written an envelope at a time is byte for byte the bundle, across read and write chunks")
    func fileWriter() throws {
        var rng = SplitMix64(seed: 14)
        let envelopes: [[UInt8]] = [rng.bytes(700_000), [], rng.bytes(900_000), rng.bytes(3)]
        let revocations = try [1, 2].map { _ in
            try ReplicaRevocation(decoding: rng.bytes(ReplicaRevocation.byteCount))
        }
        let expected = Bundle(envelopes: envelopes, revocations: revocations).encoded()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bundle-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data("an older file".utf8).write(to: url)
        let writer = try BundleFileWriter(path: url.path, count: envelopes.count, revocations: revocations)
        for envelope in envelopes { try writer.append(envelope) }
        #expect(try Data(contentsOf: url) == Data("an older file".utf8), "the file appears only when finished")
        #expect(try writer.finish() == expected.count)
        #expect([UInt8](try Data(contentsOf: url)) == expected)
        let read = try readFile(expected)
        #expect(read.error == nil && read.envelopes == envelopes && read.revocations == revocations)
        // A writer dropped before it finishes leaves nothing behind.
        let abandoned = url.deletingLastPathComponent().appendingPathComponent("abandoned-\(UUID().uuidString)")
        do {
            let writer = try BundleFileWriter(path: abandoned.path, count: 2, revocations: [])
            try writer.append([1, 2, 3])
            // Finishing short of the count the head announced is refused.
            #expect(throws: BundleWriteError.self) { try writer.finish() }
        }
        #expect(!FileManager.default.fileExists(atPath: abandoned.path))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: abandoned.deletingLastPathComponent().path)
            .filter { $0.hasPrefix(abandoned.lastPathComponent) }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    @Test("a bundle file changed after its check is refused when its end is reached")
    func changedWhileRead() throws {
        var rng = SplitMix64(seed: 15)
        let bytes = Bundle(envelopes: [rng.bytes(600_000), rng.bytes(600_000), rng.bytes(600_000)]).encoded()
        let read = try readFile(bytes) { handle in
            // Flip a byte of the third envelope, past the chunk the reader holds, behind its back.
            let offset = UInt64(1_500_000)
            try handle.seek(toOffset: offset)
            let byte = try handle.read(upToCount: 1) ?? Data([0])
            try handle.seek(toOffset: offset)
            try handle.write(contentsOf: Data([byte[0] ^ 0xFF]))
        }
        #expect(read.error?.code == .malformed)
        #expect(
            read.error?.message.contains("changed while it was being imported") == true,
            "\(String(describing: read.error))"
        )
        // Unchanged, the same file reads to its end.
        #expect(try readFile(bytes).error == nil)
    }
}
