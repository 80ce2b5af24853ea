import EntenteCrypto
import Testing

@Suite("XChaCha20-Poly1305")
struct AEADTests {
    @Test("sizes")
    func sizes() {
        #expect(XChaCha20Poly1305.keyByteCount == 32)
        #expect(XChaCha20Poly1305.nonceByteCount == 24)
        #expect(XChaCha20Poly1305.tagByteCount == 16)
        #expect(SymmetricKey.byteCount == 32)
        #expect(XChaCha20Poly1305.randomNonce().count == 24)
        #expect(SymmetricKey.random().copyBytes().count == 32)
    }

    /// draft-irtf-cfrg-xchacha-03 appendix A.3.1; the full ciphertext was cross-checked
    /// against an independent HChaCha20 + ChaCha20-Poly1305 (Python `cryptography`).
    @Test("draft-irtf-cfrg-xchacha A.3.1 known answer")
    func knownAnswer() throws {
        let plaintext: [UInt8] = Array(
            "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."
                .utf8
        )
        let associatedData = try hex("50515253c0c1c2c3c4c5c6c7")
        let key = try SymmetricKey(bytes: Array(0x80...0x9f))
        let nonce: [UInt8] = Array(0x40...0x57)
        let expectedCiphertext = try hex(
            """
            bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb
            731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452
            2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9
            21f9664c97637da9768812f615c68b13b52e
            """
        )
        let expectedTag = try hex("c0875924c1c7987947deafd8780acf49")

        let sealed = try XChaCha20Poly1305.seal(plaintext, key: key, nonce: nonce, associatedData: associatedData)
        #expect(sealed.count == plaintext.count + XChaCha20Poly1305.tagByteCount)
        #expect(Array(sealed.prefix(plaintext.count)) == expectedCiphertext)
        #expect(Array(sealed.suffix(XChaCha20Poly1305.tagByteCount)) == expectedTag)

        let opened = try XChaCha20Poly1305.open(
            expectedCiphertext + expectedTag,
            key: key,
            nonce: nonce,
            associatedData: associatedData
        )
        #expect(opened == plaintext)
    }

    @Test(
        "round trip",
        arguments: [(0, 0), (0, 12), (1, 0), (64, 0), (100, 33), (4096, 1)]
    )
    func roundTrip(plaintextLength: Int, associatedDataLength: Int) throws {
        let key = SymmetricKey.random()
        let nonce = XChaCha20Poly1305.randomNonce()
        let plaintext = secureRandomBytes(plaintextLength)
        let associatedData = secureRandomBytes(associatedDataLength)
        let sealed = try XChaCha20Poly1305.seal(plaintext, key: key, nonce: nonce, associatedData: associatedData)
        #expect(sealed.count == plaintextLength + XChaCha20Poly1305.tagByteCount)
        let opened = try XChaCha20Poly1305.open(sealed, key: key, nonce: nonce, associatedData: associatedData)
        #expect(opened == plaintext)
    }

    @Test("every flipped ciphertext byte fails with decryptionFailed")
    func tamperedCiphertext() throws {
        let key = SymmetricKey.random()
        let nonce = XChaCha20Poly1305.randomNonce()
        let sealed = try XChaCha20Poly1305.seal(Array("payload".utf8), key: key, nonce: nonce, associatedData: [1, 2])
        for index in sealed.indices {
            for bit in [0, 7] {
                let error = #expect(throws: CryptoError.self, "byte \(index) bit \(bit)") {
                    _ = try XChaCha20Poly1305.open(
                        flipping(sealed, byte: index, bit: bit),
                        key: key,
                        nonce: nonce,
                        associatedData: [1, 2]
                    )
                }
                #expect(error?.code == .decryptionFailed)
            }
        }
    }

    @Test("changed, missing or added associated data fails with decryptionFailed")
    func changedAssociatedData() throws {
        let key = SymmetricKey.random()
        let nonce = XChaCha20Poly1305.randomNonce()
        let associatedData: [UInt8] = Array("header".utf8)
        let sealed = try XChaCha20Poly1305.seal([1, 2, 3], key: key, nonce: nonce, associatedData: associatedData)
        let emptySealed = try XChaCha20Poly1305.seal([1, 2, 3], key: key, nonce: nonce, associatedData: [])
        let cases: [([UInt8], [UInt8])] = [
            (sealed, flipping(associatedData, byte: 0)),
            (sealed, []),
            (sealed, associatedData + [0]),
            (emptySealed, [0]),
        ]
        for (ciphertext, wrongAssociatedData) in cases {
            let error = #expect(throws: CryptoError.self) {
                _ = try XChaCha20Poly1305.open(ciphertext, key: key, nonce: nonce, associatedData: wrongAssociatedData)
            }
            #expect(error?.code == .decryptionFailed)
        }
    }

    @Test("wrong key fails with decryptionFailed")
    func wrongKey() throws {
        let key = SymmetricKey.random()
        let nonce = XChaCha20Poly1305.randomNonce()
        let sealed = try XChaCha20Poly1305.seal([], key: key, nonce: nonce, associatedData: [])
        let otherKey = try SymmetricKey(bytes: flipping(key.copyBytes(), byte: 31, bit: 7))
        for wrong in [otherKey, SymmetricKey.random()] {
            let error = #expect(throws: CryptoError.self) {
                _ = try XChaCha20Poly1305.open(sealed, key: wrong, nonce: nonce, associatedData: [])
            }
            #expect(error?.code == .decryptionFailed)
        }
    }

    @Test("wrong nonce fails with decryptionFailed")
    func wrongNonce() throws {
        let key = SymmetricKey.random()
        let nonce = XChaCha20Poly1305.randomNonce()
        let sealed = try XChaCha20Poly1305.seal([5, 6, 7], key: key, nonce: nonce, associatedData: [])
        // Flip a bit in the HChaCha20 part and in the ChaCha20 part of the nonce.
        for index in [0, 23] {
            let error = #expect(throws: CryptoError.self) {
                _ = try XChaCha20Poly1305.open(
                    sealed,
                    key: key,
                    nonce: flipping(nonce, byte: index),
                    associatedData: []
                )
            }
            #expect(error?.code == .decryptionFailed)
        }
    }

    @Test("a 12-byte (or any non-24-byte) nonce gives invalidLength", arguments: [0, 12, 23, 25])
    func wrongNonceLength(_ length: Int) throws {
        let key = SymmetricKey.random()
        let nonce = [UInt8](repeating: 0, count: length)
        let sealError = #expect(throws: CryptoError.self) {
            _ = try XChaCha20Poly1305.seal([1], key: key, nonce: nonce, associatedData: [])
        }
        #expect(sealError?.code == .invalidLength)
        let openError = #expect(throws: CryptoError.self) {
            _ = try XChaCha20Poly1305.open(
                [UInt8](repeating: 0, count: 17),
                key: key,
                nonce: nonce,
                associatedData: []
            )
        }
        #expect(openError?.code == .invalidLength)
    }

    @Test("ciphertexts shorter than the tag fail without trapping")
    func tooShort() {
        let key = SymmetricKey.random()
        let nonce = XChaCha20Poly1305.randomNonce()
        for length in 0..<XChaCha20Poly1305.tagByteCount {
            let error = #expect(throws: CryptoError.self) {
                _ = try XChaCha20Poly1305.open(
                    [UInt8](repeating: 0, count: length),
                    key: key,
                    nonce: nonce,
                    associatedData: []
                )
            }
            #expect(error?.code == .invalidLength)
        }
    }

    @Test("SymmetricKey rejects wrong lengths and round-trips its bytes")
    func symmetricKeyBytes() throws {
        for length in [0, 16, 31, 33] {
            let error = #expect(throws: CryptoError.self) {
                _ = try SymmetricKey(bytes: [UInt8](repeating: 3, count: length))
            }
            #expect(error?.code == .invalidKey)
        }
        let raw: [UInt8] = Array(0..<32)
        #expect(try SymmetricKey(bytes: raw).copyBytes() == raw)
        #expect(SymmetricKey.random().copyBytes() != SymmetricKey.random().copyBytes())
    }

    @Test("a key restored from its bytes opens what the original sealed")
    func restoredKey() throws {
        let key = SymmetricKey.random()
        let restored = try SymmetricKey(bytes: key.copyBytes())
        let nonce = XChaCha20Poly1305.randomNonce()
        let sealed = try XChaCha20Poly1305.seal([9, 8, 7], key: key, nonce: nonce, associatedData: [1])
        #expect(try XChaCha20Poly1305.open(sealed, key: restored, nonce: nonce, associatedData: [1]) == [9, 8, 7])
    }
}
