import EntenteCrypto
import Testing

@Suite("BLAKE2b")
struct BLAKE2bTests {
    @Test("BLAKE2b-512 of \"abc\" (RFC 7693 appendix A)")
    func blake2b512abc() {
        let digest = BLAKE2b.hash(Array("abc".utf8), outputLength: 64)
        #expect(
            hexString(digest)
                == "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
                + "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"
        )
    }

    @Test("BLAKE2b-256 of the empty input (default output length)")
    func blake2b256empty() {
        let expected = "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"
        #expect(hexString(BLAKE2b.hash([])) == expected)
        #expect(hexString(BLAKE2b.hash([], outputLength: 32)) == expected)
    }

    @Test("keyed BLAKE2b-256 matches Python hashlib")
    func keyed() {
        // hashlib.blake2b(bytes(range(16)), digest_size=32, key=bytes(range(64)))
        let digest = BLAKE2b.hash(Array(0..<16), outputLength: 32, key: Array(0..<64))
        #expect(hexString(digest) == "dbd3f8269f7768d423e2ab6aeececf189124d88b121f306f14f9a3f0b482395c")
        #expect(digest != BLAKE2b.hash(Array(0..<16), outputLength: 32))
        #expect(digest != BLAKE2b.hash(Array(0..<16), outputLength: 32, key: Array(1..<65)))
    }

    @Test("output lengths at the bounds", arguments: [16, 17, 32, 63, 64])
    func outputLengths(_ length: Int) {
        let digest = BLAKE2b.hash(Array("abc".utf8), outputLength: length)
        #expect(digest.count == length)
    }

    @Test("different output lengths are not truncations")
    func notTruncations() {
        let long = BLAKE2b.hash(Array("abc".utf8), outputLength: 64)
        let short = BLAKE2b.hash(Array("abc".utf8), outputLength: 32)
        #expect(Array(long.prefix(32)) != short)
    }

    @Test("a single flipped input bit changes the digest")
    func sensitivity() {
        let input: [UInt8] = Array(repeating: 0x5a, count: 200)
        #expect(BLAKE2b.hash(input) != BLAKE2b.hash(flipping(input, byte: 199, bit: 7)))
    }

    @Test("hashing in pieces gives the one-shot digest, however the input is split", arguments: [16, 32, 64])
    func pieces(outputLength: Int) {
        let input = (0..<3_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let whole = BLAKE2b.hash(input, outputLength: outputLength)
        for cuts in [[], [0], [1], [127, 128, 129], [1_000, 1_000, 2_999], [3_000]] {
            let hasher = BLAKE2b.Hasher(outputLength: outputLength)
            var start = 0
            for cut in cuts + [input.count] {
                hasher.update(Array(input[start..<cut]))
                start = cut
            }
            #expect(hasher.finalize() == whole, "cut at \(cuts)")
        }
        // And a different input gives a different digest.
        let other = BLAKE2b.Hasher(outputLength: outputLength)
        other.update(Array(input.dropLast()))
        #expect(other.finalize() != whole)
    }
}
