internal import CSodium

/// Entry point for libsodium's one-time global initialisation.
public enum Sodium {
    /// Whether `sodium_init` succeeded.
    ///
    /// A `static let` is initialised lazily and exactly once, in a thread-safe way, so
    /// `sodium_init` runs at most once per process from this module. (`sodium_init` is itself
    /// idempotent and thread-safe, returning 1 when already initialised.)
    private static let ready: Bool = {
        guard sodium_init() >= 0 else { return false }
        // The public byte-count constants are literals so that they can be `static let`s;
        // check once, in debug builds, that they agree with the linked libsodium.
        assert(SigningPublicKey.byteCount == crypto_sign_publickeybytes())
        assert(SigningKeyPair.signatureByteCount == crypto_sign_bytes())
        assert(SigningKeyPair.secretKeyByteCount == crypto_sign_secretkeybytes())
        assert(BoxPublicKey.byteCount == crypto_box_publickeybytes())
        assert(SymmetricKey.byteCount == crypto_aead_xchacha20poly1305_ietf_keybytes())
        assert(XChaCha20Poly1305.keyByteCount == crypto_aead_xchacha20poly1305_ietf_keybytes())
        assert(XChaCha20Poly1305.nonceByteCount == crypto_aead_xchacha20poly1305_ietf_npubbytes())
        assert(XChaCha20Poly1305.tagByteCount == crypto_aead_xchacha20poly1305_ietf_abytes())
        return true
    }()

    /// Initialises libsodium once, throwing if it cannot be initialised.
    ///
    /// The first call runs `sodium_init`; later calls only read the cached result. Every
    /// public entry point of this module calls it, so calling it yourself is optional; doing
    /// so at start-up surfaces a broken libsodium early. Non-throwing entry points that
    /// produce keys, randomness, ciphertexts or hashes trap instead if initialisation failed,
    /// because they cannot do their job safely without it.
    /// The corresponding C function is `sodium_init`.
    ///
    /// - Throws: ``CryptoError`` with code ``CryptoError/Code/libraryUnavailable`` if
    ///   `sodium_init` failed.
    public static func ensureReady() throws(CryptoError) {
        guard ready else {
            throw CryptoError(.libraryUnavailable, "sodium_init failed; libsodium is unavailable")
        }
    }

    /// Whether libsodium is initialised, initialising it on first use.
    static var isReady: Bool {
        ready
    }

    /// Initialises libsodium, trapping if that is impossible.
    ///
    /// Used by non-throwing entry points that must not continue without a working
    /// libsodium (key generation, random bytes, `sodium_malloc`). A failed `sodium_init`
    /// is an environment failure, not a consequence of any input.
    static func requireReady() {
        guard ready else {
            fatalError("EntenteCrypto: sodium_init failed; cannot perform cryptographic operations")
        }
    }
}
