internal import CSodium

/// A 32-byte secret key for ``XChaCha20Poly1305``, held in ``SecureBytes``.
///
/// The corresponding C function is `crypto_aead_xchacha20poly1305_ietf_keygen`.
public struct SymmetricKey: Sendable {
    /// The length of the key in bytes.
    ///
    /// Matches the C function `crypto_aead_xchacha20poly1305_ietf_keybytes`.
    public static let byteCount = 32

    /// The key bytes in guarded memory.
    private let secret: SecureBytes

    private init(secret: SecureBytes) {
        self.secret = secret
    }

    /// Generates a new random key directly in guarded memory.
    ///
    /// Traps if libsodium cannot be initialised.
    /// The corresponding C function is `crypto_aead_xchacha20poly1305_ietf_keygen`.
    ///
    /// - Returns: A fresh key.
    public static func random() -> SymmetricKey {
        Sodium.requireReady()
        let secret = SecureBytes(count: crypto_aead_xchacha20poly1305_ietf_keybytes()) { keyPointer in
            crypto_aead_xchacha20poly1305_ietf_keygen(keyPointer)
        }
        return SymmetricKey(secret: secret)
    }

    /// Copies raw key bytes into guarded memory after checking their length.
    ///
    /// The caller's array is not wiped.
    /// The length is compared with the C function `crypto_aead_xchacha20poly1305_ietf_keybytes`.
    ///
    /// - Parameter bytes: The 32-byte key.
    /// - Throws: ``CryptoError`` with code ``CryptoError/Code/invalidKey`` for any other
    ///   length, or ``CryptoError/Code/libraryUnavailable``.
    public init(bytes: [UInt8]) throws(CryptoError) {
        try Sodium.ensureReady()
        let keyLength = crypto_aead_xchacha20poly1305_ietf_keybytes()
        guard bytes.count == keyLength else {
            throw CryptoError(.invalidKey, "symmetric key must be \(keyLength) bytes, got \(bytes.count)")
        }
        self.init(secret: SecureBytes(copying: bytes))
    }

    /// Copies the key out, for example to wrap it in a sealed box.
    ///
    /// The caller owns the copy, which is in ordinary memory. No C function is called.
    ///
    /// - Returns: The 32 key bytes.
    public func copyBytes() -> [UInt8] {
        secret.copyBytes()
    }

    /// Calls `body` with a pointer to the key and its length.
    func withSecretPointer<R>(_ body: (UnsafePointer<UInt8>, Int) -> R) -> R {
        secret.withSecretPointer(body)
    }
}

/// XChaCha20-Poly1305 authenticated encryption with associated data (IETF construction).
///
/// The 24-byte nonce is large enough to choose at random for every message
/// (``randomNonce()``). Ciphertexts are the encrypted message followed by a 16-byte tag.
/// The corresponding C functions are `crypto_aead_xchacha20poly1305_ietf_encrypt` and
/// `crypto_aead_xchacha20poly1305_ietf_decrypt`.
public enum XChaCha20Poly1305 {
    /// The length of a key in bytes.
    ///
    /// Matches the C function `crypto_aead_xchacha20poly1305_ietf_keybytes`.
    public static let keyByteCount = 32

    /// The length of a nonce in bytes.
    ///
    /// Matches the C function `crypto_aead_xchacha20poly1305_ietf_npubbytes`.
    public static let nonceByteCount = 24

    /// The length of the authentication tag appended to every ciphertext, in bytes.
    ///
    /// Matches the C function `crypto_aead_xchacha20poly1305_ietf_abytes`.
    public static let tagByteCount = 16

    /// Returns a fresh random 24-byte nonce.
    ///
    /// Random nonces of this size are safe to use without a counter.
    /// Traps if libsodium cannot be initialised.
    /// The corresponding C function is `randombytes_buf`.
    ///
    /// - Returns: 24 random bytes.
    public static func randomNonce() -> [UInt8] {
        secureRandomBytes(crypto_aead_xchacha20poly1305_ietf_npubbytes())
    }

    /// Encrypts and authenticates `plaintext`, also authenticating `associatedData`.
    ///
    /// Never reuse a nonce with the same key.
    /// The corresponding C function is `crypto_aead_xchacha20poly1305_ietf_encrypt`.
    ///
    /// - Parameters:
    ///   - plaintext: The message; may be empty.
    ///   - key: The secret key.
    ///   - nonce: A 24-byte nonce, unique per key.
    ///   - associatedData: Data authenticated but not encrypted; may be empty.
    /// - Returns: The ciphertext followed by the 16-byte tag.
    /// - Throws: ``CryptoError`` with code ``CryptoError/Code/invalidLength`` if the nonce is
    ///   not 24 bytes or the plaintext exceeds libsodium's maximum, or
    ///   ``CryptoError/Code/libraryUnavailable``.
    public static func seal(
        _ plaintext: [UInt8],
        key: SymmetricKey,
        nonce: [UInt8],
        associatedData: [UInt8]
    ) throws(CryptoError) -> [UInt8] {
        try Sodium.ensureReady()
        try checkNonce(nonce)
        // libsodium aborts the process (sodium_misuse) on oversized messages; refuse first.
        guard fitsMessageLimit(plaintext.count) else {
            throw CryptoError(.invalidLength, "plaintext of \(plaintext.count) bytes is too long")
        }
        let (length, overflow) = plaintext.count.addingReportingOverflow(crypto_aead_xchacha20poly1305_ietf_abytes())
        guard !overflow else {
            throw CryptoError(.invalidLength, "plaintext of \(plaintext.count) bytes is too long")
        }
        var ciphertext = [UInt8](repeating: 0, count: length)
        var written: UInt64 = 0
        let status = ciphertext.withMutableCPointer { ciphertextPointer, _ in
            plaintext.withCPointer { plaintextPointer, plaintextLength in
                associatedData.withCPointer { adPointer, adLength in
                    nonce.withCPointer { noncePointer, _ in
                        key.withSecretPointer { keyPointer, _ in
                            crypto_aead_xchacha20poly1305_ietf_encrypt(
                                ciphertextPointer,
                                &written,
                                plaintextPointer,
                                UInt64(plaintextLength),
                                adPointer,
                                UInt64(adLength),
                                nil,
                                noncePointer,
                                keyPointer
                            )
                        }
                    }
                }
            }
        }
        guard status == 0, written == UInt64(length) else {
            throw CryptoError(.invalidLength, "crypto_aead_xchacha20poly1305_ietf_encrypt failed")
        }
        return ciphertext
    }

    /// Verifies and decrypts a ciphertext produced by ``seal(_:key:nonce:associatedData:)``.
    ///
    /// Nothing is returned unless the tag verifies for this key, nonce and associated data.
    /// Never traps on untrusted input.
    /// The corresponding C function is `crypto_aead_xchacha20poly1305_ietf_decrypt`.
    ///
    /// - Parameters:
    ///   - ciphertext: The ciphertext followed by the 16-byte tag.
    ///   - key: The secret key used to seal.
    ///   - nonce: The 24-byte nonce used to seal.
    ///   - associatedData: The associated data used to seal.
    /// - Returns: The plaintext.
    /// - Throws: ``CryptoError`` with code ``CryptoError/Code/decryptionFailed`` if anything was
    ///   tampered with or does not match; ``CryptoError/Code/invalidLength`` if the nonce is
    ///   not 24 bytes or the ciphertext is shorter than the 16-byte tag;
    ///   ``CryptoError/Code/libraryUnavailable``.
    public static func open(
        _ ciphertext: [UInt8],
        key: SymmetricKey,
        nonce: [UInt8],
        associatedData: [UInt8]
    ) throws(CryptoError) -> [UInt8] {
        try Sodium.ensureReady()
        try checkNonce(nonce)
        let tagLength = crypto_aead_xchacha20poly1305_ietf_abytes()
        guard ciphertext.count >= tagLength else {
            throw CryptoError(
                .invalidLength,
                "ciphertext must be at least \(tagLength) bytes, got \(ciphertext.count)"
            )
        }
        let plaintextLength = ciphertext.count - tagLength
        guard fitsMessageLimit(plaintextLength) else {
            throw CryptoError(.invalidLength, "ciphertext of \(ciphertext.count) bytes is too long")
        }
        var plaintext = [UInt8](repeating: 0, count: plaintextLength)
        var written: UInt64 = 0
        let status = plaintext.withMutableCPointer { plaintextPointer, _ in
            ciphertext.withCPointer { ciphertextPointer, ciphertextLength in
                associatedData.withCPointer { adPointer, adLength in
                    nonce.withCPointer { noncePointer, _ in
                        key.withSecretPointer { keyPointer, _ in
                            crypto_aead_xchacha20poly1305_ietf_decrypt(
                                plaintextPointer,
                                &written,
                                nil,
                                ciphertextPointer,
                                UInt64(ciphertextLength),
                                adPointer,
                                UInt64(adLength),
                                noncePointer,
                                keyPointer
                            )
                        }
                    }
                }
            }
        }
        guard status == 0, written == UInt64(plaintextLength) else {
            throw CryptoError(.decryptionFailed, "XChaCha20-Poly1305 authentication failed")
        }
        return plaintext
    }

    /// Whether a message of `length` bytes is within libsodium's limit.
    ///
    /// `crypto_aead_xchacha20poly1305_ietf_messagebytes_max` returns a `size_t` close to
    /// `SIZE_MAX`, which Swift imports as `Int`; reinterpret it as unsigned before comparing.
    private static func fitsMessageLimit(_ length: Int) -> Bool {
        let limit = UInt(bitPattern: crypto_aead_xchacha20poly1305_ietf_messagebytes_max())
        return length >= 0 && UInt(length) <= limit
    }

    private static func checkNonce(_ nonce: [UInt8]) throws(CryptoError) {
        let nonceLength = crypto_aead_xchacha20poly1305_ietf_npubbytes()
        guard nonce.count == nonceLength else {
            throw CryptoError(.invalidLength, "nonce must be \(nonceLength) bytes, got \(nonce.count)")
        }
    }
}
