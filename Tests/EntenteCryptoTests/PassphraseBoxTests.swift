import EntenteCrypto
import Testing

@Suite("PassphraseBox")
struct PassphraseBoxTests {
    /// libsodium's minimum Argon2id cost, to keep the tests fast (the product uses the interactive cost).
    static let cheap = PassphraseBox.Cost(operations: 1, memory: 8192)

    @Test func sealedSecretsOpenOnlyWithTheRightPassphrase() throws {
        let salt = PassphraseBox.randomSalt()
        #expect(salt.count == PassphraseBox.saltByteCount && salt != PassphraseBox.randomSalt())
        let key = try PassphraseBox.deriveKey(passphrase: Array("correct horse".utf8), salt: salt, cost: Self.cheap)
        let secret: [UInt8] = Array(0..<64)
        let sealed = PassphraseBox.seal(secret, key: key)
        #expect(sealed.ciphertext.count == secret.count + 16)
        #expect(!sealed.ciphertext.starts(with: secret.prefix(8)))
        #expect(try PassphraseBox.open(ciphertext: sealed.ciphertext, nonce: sealed.nonce, key: key) == secret)
        let again = try PassphraseBox.deriveKey(passphrase: Array("correct horse".utf8), salt: salt, cost: Self.cheap)
        #expect(try PassphraseBox.open(ciphertext: sealed.ciphertext, nonce: sealed.nonce, key: again) == secret)

        let wrong = try PassphraseBox.deriveKey(passphrase: Array("correct horsf".utf8), salt: salt, cost: Self.cheap)
        #expect(throws: CryptoError.self) {
            try PassphraseBox.open(ciphertext: sealed.ciphertext, nonce: sealed.nonce, key: wrong)
        }
        let otherSalt = try PassphraseBox.deriveKey(
            passphrase: Array("correct horse".utf8),
            salt: PassphraseBox.randomSalt(),
            cost: Self.cheap
        )
        #expect(throws: CryptoError.self) {
            try PassphraseBox.open(ciphertext: sealed.ciphertext, nonce: sealed.nonce, key: otherSalt)
        }
        for index in [0, sealed.ciphertext.count / 2, sealed.ciphertext.count - 1] {
            var tampered = sealed.ciphertext
            tampered[index] ^= 1
            #expect(throws: CryptoError.self) { try PassphraseBox.open(ciphertext: tampered, nonce: sealed.nonce, key: key) }
        }
        #expect(throws: CryptoError.self) { try PassphraseBox.open(ciphertext: [1, 2], nonce: sealed.nonce, key: key) }
        #expect(throws: CryptoError.self) {
            try PassphraseBox.deriveKey(passphrase: [1], salt: [1, 2, 3], cost: Self.cheap)
        }
    }

    @Test func theInteractiveCostIsLibsodiumsAndStoredValuesRoundTrip() {
        let cost = PassphraseBox.Cost.interactive
        #expect(cost.operations >= 2 && cost.memory >= 64 * 1024 * 1024)
        #expect(PassphraseBox.Cost(operations: cost.operations, memory: cost.memory) == cost)
    }
}
