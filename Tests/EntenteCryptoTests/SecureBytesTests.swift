import EntenteCrypto
import Testing

@Suite("SecureBytes, randomness and errors")
struct SecureBytesTests {
    @Test("libsodium initialises")
    func ready() throws {
        try Sodium.ensureReady()
        try Sodium.ensureReady()
    }

    @Test("copying preserves the bytes")
    func copying() {
        let raw: [UInt8] = Array(0..<100)
        let secure = SecureBytes(copying: raw)
        #expect(secure.count == 100)
        #expect(secure.copyBytes() == raw)
        #expect(secure.withUnsafeBytes { Array($0) } == raw)
    }

    @Test("empty SecureBytes")
    func empty() {
        let secure = SecureBytes(copying: [])
        #expect(secure.count == 0)
        #expect(secure.copyBytes().isEmpty)
        #expect(secure.withUnsafeBytes { $0.count } == 0)
        #expect(secure.constantTimeEquals(SecureBytes(copying: [])))
        #expect(!secure.constantTimeEquals(SecureBytes(copying: [0])))
        #expect(SecureBytes.random(count: 0).count == 0)
    }

    @Test("constantTimeEquals true and false cases")
    func constantTimeEquals() {
        let raw: [UInt8] = Array(repeating: 0xa5, count: 32)
        let first = SecureBytes(copying: raw)
        let second = SecureBytes(copying: raw)
        #expect(first.constantTimeEquals(second))
        #expect(second.constantTimeEquals(first))
        #expect(first.constantTimeEquals(first))
        for index in [0, 15, 31] {
            let different = SecureBytes(copying: flipping(raw, byte: index))
            #expect(!first.constantTimeEquals(different))
            #expect(!different.constantTimeEquals(first))
        }
        #expect(!first.constantTimeEquals(SecureBytes(copying: Array(raw.prefix(31)))))
        #expect(!first.constantTimeEquals(SecureBytes(copying: raw + [0xa5])))
    }

    @Test("random secrets differ and have the requested length", arguments: [1, 16, 32, 64, 5000])
    func randomSecrets(_ count: Int) {
        let first = SecureBytes.random(count: count)
        let second = SecureBytes.random(count: count)
        #expect(first.count == count)
        #expect(second.count == count)
        if count >= 16 {
            #expect(!first.constantTimeEquals(second))
            #expect(first.copyBytes() != second.copyBytes())
        }
    }

    @Test("secureRandomBytes has the requested length and differs between calls")
    func randomBytes() {
        #expect(secureRandomBytes(0).isEmpty)
        #expect(secureRandomBytes(1).count == 1)
        let first = secureRandomBytes(32)
        let second = secureRandomBytes(32)
        #expect(first.count == 32)
        #expect(first != second)
        #expect(first != [UInt8](repeating: 0, count: 32))
    }

    @Test("SecureBytes can be shared across tasks")
    func sendable() async {
        let secret = SecureBytes.random(count: 32)
        let expected = secret.copyBytes()
        let copies = await withTaskGroup(of: [UInt8].self) { group in
            for _ in 0..<8 {
                group.addTask { secret.copyBytes() }
            }
            var results: [[UInt8]] = []
            for await copy in group {
                results.append(copy)
            }
            return results
        }
        #expect(copies.count == 8)
        #expect(copies.allSatisfy { $0 == expected })
    }

    @Test("CryptoError codes and descriptions")
    func errors() throws {
        let codes: [CryptoError.Code] = [
            .libraryUnavailable, .invalidKey, .invalidLength, .verificationFailed, .decryptionFailed,
        ]
        #expect(Set(codes).count == codes.count)
        #expect(
            codes.map(\.description) == [
                "libraryUnavailable", "invalidKey", "invalidLength", "verificationFailed", "decryptionFailed",
            ]
        )
        let error = #expect(throws: CryptoError.self) {
            _ = try XChaCha20Poly1305.seal([], key: SymmetricKey.random(), nonce: [0], associatedData: [])
        }
        let thrown = try #require(error)
        #expect(thrown.code == .invalidLength)
        #expect(thrown.description.hasPrefix("invalidLength: "))
        #expect(thrown.description.contains("24"))
        #expect(thrown == thrown)
    }
}
