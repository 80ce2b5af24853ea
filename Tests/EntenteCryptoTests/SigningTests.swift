import EntenteCrypto
import Testing

struct Ed25519Vector: Sendable, CustomTestStringConvertible {
    let name: String
    let seed: String
    let publicKey: String
    let message: String
    let signature: String

    var testDescription: String { name }
}

/// RFC 8032 section 7.1, TEST 1 and TEST 2.
let rfc8032Vectors = [
    Ed25519Vector(
        name: "RFC 8032 TEST 1",
        seed: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        publicKey: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        message: "",
        signature: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
            + "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    ),
    Ed25519Vector(
        name: "RFC 8032 TEST 2",
        seed: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        publicKey: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        message: "72",
        signature: "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
            + "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
    ),
]

@Suite("Ed25519 signing")
struct SigningTests {
    @Test("sizes match Ed25519")
    func sizes() {
        #expect(SigningPublicKey.byteCount == 32)
        #expect(SigningKeyPair.signatureByteCount == 64)
        #expect(SigningKeyPair.secretKeyByteCount == 64)
    }

    @Test("RFC 8032 known answers", arguments: rfc8032Vectors)
    func knownAnswer(_ vector: Ed25519Vector) throws {
        let keyPair = try SigningKeyPair(seed: hex(vector.seed))
        #expect(hexString(keyPair.publicKey.bytes) == vector.publicKey)

        let message = try hex(vector.message)
        let signature = keyPair.signature(for: message)
        #expect(signature.count == SigningKeyPair.signatureByteCount)
        #expect(hexString(signature) == vector.signature)

        let publicKey = try SigningPublicKey(bytes: hex(vector.publicKey))
        #expect(publicKey == keyPair.publicKey)
        #expect(publicKey.isValidSignature(try hex(vector.signature), for: message))

        // libsodium's secret key is the seed followed by the public key.
        #expect(hexString(keyPair.exportSecretKey()) == vector.seed + vector.publicKey)
    }

    @Test("verification rejects a flipped message bit", arguments: rfc8032Vectors)
    func flippedMessageBit(_ vector: Ed25519Vector) throws {
        let publicKey = try SigningPublicKey(bytes: hex(vector.publicKey))
        let signature = try hex(vector.signature)
        let message = try hex(vector.message)
        for index in message.indices {
            for bit in 0..<8 {
                #expect(!publicKey.isValidSignature(signature, for: flipping(message, byte: index, bit: bit)))
            }
        }
        // Appending a byte changes the message too (covers the empty-message vector).
        #expect(!publicKey.isValidSignature(signature, for: message + [0]))
    }

    @Test("verification rejects every flipped signature bit", arguments: rfc8032Vectors)
    func flippedSignatureBit(_ vector: Ed25519Vector) throws {
        let publicKey = try SigningPublicKey(bytes: hex(vector.publicKey))
        let signature = try hex(vector.signature)
        let message = try hex(vector.message)
        #expect(publicKey.isValidSignature(signature, for: message))
        for index in signature.indices {
            for bit in 0..<8 {
                let tampered = flipping(signature, byte: index, bit: bit)
                #expect(!publicKey.isValidSignature(tampered, for: message), "byte \(index) bit \(bit)")
            }
        }
    }

    @Test("verification rejects the wrong key")
    func wrongKey() throws {
        let first = try SigningKeyPair(seed: hex(rfc8032Vectors[0].seed))
        let second = try SigningKeyPair(seed: hex(rfc8032Vectors[1].seed))
        let message: [UInt8] = Array("hello".utf8)
        let signature = first.signature(for: message)
        #expect(first.publicKey.isValidSignature(signature, for: message))
        #expect(!second.publicKey.isValidSignature(signature, for: message))
        #expect(!SigningKeyPair.generate().publicKey.isValidSignature(signature, for: message))
    }

    @Test("wrong-length signatures return false without trapping", arguments: [0, 1, 32, 63, 65, 128])
    func wrongLengthSignature(_ length: Int) throws {
        let keyPair = SigningKeyPair.generate()
        let message: [UInt8] = [1, 2, 3]
        var signature = keyPair.signature(for: message)
        if length <= signature.count {
            signature = Array(signature.prefix(length))
        } else {
            signature += [UInt8](repeating: 0, count: length - signature.count)
        }
        #expect(!keyPair.publicKey.isValidSignature(signature, for: message))
    }

    @Test("a malformed public key never verifies and never traps")
    func malformedPublicKey() throws {
        let keyPair = SigningKeyPair.generate()
        let message: [UInt8] = [9, 9, 9]
        let signature = keyPair.signature(for: message)
        for fill: UInt8 in [0x00, 0xff] {
            let key = try SigningPublicKey(bytes: [UInt8](repeating: fill, count: 32))
            #expect(!key.isValidSignature(signature, for: message))
        }
    }

    @Test("secret-key export and import round-trips")
    func secretKeyRoundTrip() throws {
        let original = SigningKeyPair.generate()
        let exported = original.exportSecretKey()
        #expect(exported.count == SigningKeyPair.secretKeyByteCount)
        let restored = try SigningKeyPair(secretKey: exported)
        #expect(restored.publicKey == original.publicKey)
        let message: [UInt8] = Array("round trip".utf8)
        #expect(restored.signature(for: message) == original.signature(for: message))
        #expect(original.publicKey.isValidSignature(restored.signature(for: message), for: message))
        #expect(restored.exportSecretKey() == exported)
    }

    @Test("signing is deterministic and generated keys differ")
    func generation() {
        let first = SigningKeyPair.generate()
        let second = SigningKeyPair.generate()
        #expect(first.publicKey != second.publicKey)
        #expect(first.exportSecretKey() != second.exportSecretKey())
        let message: [UInt8] = [42]
        #expect(first.signature(for: message) == first.signature(for: message))
        #expect(first.signature(for: message) != second.signature(for: message))
    }

    @Test("a large message signs and verifies")
    func largeMessage() {
        let keyPair = SigningKeyPair.generate()
        let message = secureRandomBytes(1 << 20)
        let signature = keyPair.signature(for: message)
        #expect(keyPair.publicKey.isValidSignature(signature, for: message))
        #expect(!keyPair.publicKey.isValidSignature(signature, for: flipping(message, byte: message.count - 1)))
    }

    @Test("wrong-length keys and seeds are rejected with invalidKey")
    func invalidLengths() {
        for length in [0, 31, 33, 64] {
            let error = #expect(throws: CryptoError.self) {
                _ = try SigningPublicKey(bytes: [UInt8](repeating: 1, count: length))
            }
            #expect(error?.code == .invalidKey)
        }
        for length in [0, 31, 33, 64] {
            let error = #expect(throws: CryptoError.self) {
                _ = try SigningKeyPair(seed: [UInt8](repeating: 1, count: length))
            }
            #expect(error?.code == .invalidKey)
        }
        for length in [0, 32, 63, 65] {
            let error = #expect(throws: CryptoError.self) {
                _ = try SigningKeyPair(secretKey: [UInt8](repeating: 1, count: length))
            }
            #expect(error?.code == .invalidKey)
        }
    }

    @Test("a secret key whose public half does not match its seed is rejected")
    func inconsistentSecretKey() throws {
        let exported = SigningKeyPair.generate().exportSecretKey()
        let tamperedPublicHalf = flipping(exported, byte: 40)
        let error = #expect(throws: CryptoError.self) {
            _ = try SigningKeyPair(secretKey: tamperedPublicHalf)
        }
        #expect(error?.code == .invalidKey)

        let otherPublic = SigningKeyPair.generate().publicKey.bytes
        let spliced = Array(exported.prefix(32)) + otherPublic
        #expect(throws: CryptoError.self) {
            _ = try SigningKeyPair(secretKey: spliced)
        }
    }
}
