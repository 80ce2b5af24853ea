import EntenteCrypto
import EntenteTestSupport
import EntenteWire
import Testing

@testable import EntenteSync

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

    private func decode(_ bytes: [UInt8]) -> WireError? {
        wireError { () throws(WireError) in try Bundle(decoding: bytes) }
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
}
