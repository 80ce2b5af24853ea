import EntenteCrypto
import Testing

@Suite("Sealed boxes")
struct SealedBoxTests {
    @Test("overhead is 48 bytes (ephemeral public key plus tag)")
    func overhead() {
        #expect(SealedBox.overhead == 48)
        #expect(BoxPublicKey.byteCount == 32)
    }

    @Test("round trip", arguments: [0, 1, 31, 1000])
    func roundTrip(_ length: Int) throws {
        let recipient = BoxKeyPair.generate()
        let message = secureRandomBytes(length)
        let ciphertext = SealedBox.seal(message, to: recipient.publicKey)
        #expect(ciphertext.count == length + SealedBox.overhead)
        #expect(try SealedBox.open(ciphertext, with: recipient) == message)
    }

    @Test("sealing is randomised")
    func randomised() throws {
        let recipient = BoxKeyPair.generate()
        let message: [UInt8] = Array("same message".utf8)
        let first = SealedBox.seal(message, to: recipient.publicKey)
        let second = SealedBox.seal(message, to: recipient.publicKey)
        #expect(first != second)
        #expect(try SealedBox.open(first, with: recipient) == message)
        #expect(try SealedBox.open(second, with: recipient) == message)
    }

    @Test("opening with another key pair fails with decryptionFailed")
    func wrongRecipient() {
        let recipient = BoxKeyPair.generate()
        let stranger = BoxKeyPair.generate()
        let ciphertext = SealedBox.seal(Array("secret".utf8), to: recipient.publicKey)
        let error = #expect(throws: CryptoError.self) {
            _ = try SealedBox.open(ciphertext, with: stranger)
        }
        #expect(error?.code == .decryptionFailed)
    }

    @Test("every single flipped byte fails with decryptionFailed")
    func tampering() {
        let recipient = BoxKeyPair.generate()
        let ciphertext = SealedBox.seal(Array("attack at dawn".utf8), to: recipient.publicKey)
        for index in ciphertext.indices {
            var tampered = ciphertext
            tampered[index] ^= 0xff
            let error = #expect(throws: CryptoError.self, "byte \(index)") {
                _ = try SealedBox.open(tampered, with: recipient)
            }
            #expect(error?.code == .decryptionFailed)
        }
    }

    @Test("truncated and extended ciphertexts fail")
    func truncatedOrExtended() {
        let recipient = BoxKeyPair.generate()
        let ciphertext = SealedBox.seal(Array("message".utf8), to: recipient.publicKey)
        #expect(throws: CryptoError.self) {
            _ = try SealedBox.open(Array(ciphertext.dropLast()), with: recipient)
        }
        #expect(throws: CryptoError.self) {
            _ = try SealedBox.open(ciphertext + [0], with: recipient)
        }
    }

    @Test("inputs shorter than the overhead fail with invalidLength, without trapping")
    func tooShort() {
        let recipient = BoxKeyPair.generate()
        for length in 0..<SealedBox.overhead {
            let error = #expect(throws: CryptoError.self) {
                _ = try SealedBox.open([UInt8](repeating: 0x17, count: length), with: recipient)
            }
            #expect(error?.code == .invalidLength)
        }
    }

    @Test("an all-zero ciphertext of exactly the overhead fails with decryptionFailed")
    func zeroCiphertext() {
        let recipient = BoxKeyPair.generate()
        let error = #expect(throws: CryptoError.self) {
            _ = try SealedBox.open([UInt8](repeating: 0, count: SealedBox.overhead), with: recipient)
        }
        #expect(error?.code == .decryptionFailed)
    }

    @Test("BoxKeyPair(secretKey:) derives the same public key and opens the same boxes")
    func secretKeyRoundTrip() throws {
        let original = BoxKeyPair.generate()
        let exported = original.exportSecretKey()
        #expect(exported.count == 32)
        let restored = try BoxKeyPair(secretKey: exported)
        #expect(restored.publicKey == original.publicKey)
        #expect(restored.exportSecretKey() == exported)
        let message: [UInt8] = [1, 2, 3, 4]
        let ciphertext = SealedBox.seal(message, to: original.publicKey)
        #expect(try SealedBox.open(ciphertext, with: restored) == message)
    }

    @Test("X25519 public keys match RFC 7748 section 6.1")
    func rfc7748() throws {
        let alice = try BoxKeyPair(
            secretKey: hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
        )
        #expect(hexString(alice.publicKey.bytes) == "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
        let bob = try BoxKeyPair(
            secretKey: hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
        )
        #expect(hexString(bob.publicKey.bytes) == "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
    }

    @Test("BoxPublicKey(bytes:) accepts valid keys")
    func publicKeyFromBytes() throws {
        let keyPair = BoxKeyPair.generate()
        let parsed = try BoxPublicKey(bytes: keyPair.publicKey.bytes)
        #expect(parsed == keyPair.publicKey)
        let message: [UInt8] = [7]
        #expect(try SealedBox.open(SealedBox.seal(message, to: parsed), with: keyPair) == message)
    }

    @Test("wrong-length keys are rejected with invalidKey")
    func wrongLengthKeys() {
        for length in [0, 31, 33, 64] {
            let publicError = #expect(throws: CryptoError.self) {
                _ = try BoxPublicKey(bytes: [UInt8](repeating: 9, count: length))
            }
            #expect(publicError?.code == .invalidKey)
            let secretError = #expect(throws: CryptoError.self) {
                _ = try BoxKeyPair(secretKey: [UInt8](repeating: 9, count: length))
            }
            #expect(secretError?.code == .invalidKey)
        }
    }

    @Test("small-order public keys are rejected with invalidKey")
    func smallOrderKeys() throws {
        let smallOrder = [
            [UInt8](repeating: 0, count: 32),  // 0
            [1] + [UInt8](repeating: 0, count: 31),  // 1
            // A point of order 8 (from the libsodium blacklist).
            try hex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
        ]
        for bytes in smallOrder {
            let error = #expect(throws: CryptoError.self) {
                _ = try BoxPublicKey(bytes: bytes)
            }
            #expect(error?.code == .invalidKey)
        }
    }
}
