internal import CSodium

/// An Ed25519 public key (32 bytes) that verifies detached signatures.
///
/// The corresponding C function is `crypto_sign_verify_detached`.
public struct SigningPublicKey: Hashable, Sendable {
    /// The length of an Ed25519 public key in bytes.
    ///
    /// Matches the C function `crypto_sign_publickeybytes`.
    public static let byteCount = 32

    /// The raw 32-byte public key.
    public let bytes: [UInt8]

    /// Wraps raw public-key bytes after checking their length.
    ///
    /// Only the length is checked; a malformed point simply never verifies any signature.
    /// The length is compared with the C function `crypto_sign_publickeybytes`.
    ///
    /// - Parameter bytes: The 32-byte public key.
    /// - Throws: ``CryptoError`` with code ``CryptoError/Code/invalidKey`` for any other length,
    ///   or ``CryptoError/Code/libraryUnavailable``.
    public init(bytes: [UInt8]) throws(CryptoError) {
        try Sodium.ensureReady()
        guard bytes.count == crypto_sign_publickeybytes() else {
            throw CryptoError(
                .invalidKey,
                "Ed25519 public key must be \(crypto_sign_publickeybytes()) bytes, got \(bytes.count)"
            )
        }
        self.bytes = bytes
    }

    /// Wraps bytes already known to have the right length (from libsodium itself).
    init(trustedBytes: [UInt8]) {
        self.bytes = trustedBytes
    }

    /// Checks a detached Ed25519 signature over `message`.
    ///
    /// Never traps on untrusted input: a signature of the wrong length, a malformed key or
    /// an unavailable libsodium all return `false`.
    /// The corresponding C function is `crypto_sign_verify_detached`.
    ///
    /// - Parameters:
    ///   - signature: The 64-byte detached signature.
    ///   - message: The signed message.
    /// - Returns: `true` only if the signature is valid for `message` under this key.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard Sodium.isReady,
            signature.count == crypto_sign_bytes(),
            bytes.count == crypto_sign_publickeybytes()
        else { return false }
        let result = signature.withCPointer { signaturePointer, _ in
            message.withCPointer { messagePointer, messageLength in
                bytes.withCPointer { keyPointer, _ in
                    crypto_sign_verify_detached(
                        signaturePointer,
                        messagePointer,
                        UInt64(messageLength),
                        keyPointer
                    )
                }
            }
        }
        return result == 0
    }
}

/// An Ed25519 key pair that creates detached signatures.
///
/// The 64-byte libsodium secret key (seed followed by public key) is held in
/// ``SecureBytes``.
/// The corresponding C functions are `crypto_sign_keypair`, `crypto_sign_seed_keypair` and
/// `crypto_sign_detached`.
public struct SigningKeyPair: Sendable {
    /// The length of a detached Ed25519 signature in bytes.
    ///
    /// Matches the C function `crypto_sign_bytes`.
    public static let signatureByteCount = 64

    /// The length of a libsodium Ed25519 secret key in bytes (32-byte seed, then public key).
    ///
    /// Matches the C function `crypto_sign_secretkeybytes`.
    public static let secretKeyByteCount = 64

    /// The public half, for verification.
    public let publicKey: SigningPublicKey

    /// The 64-byte libsodium secret key.
    private let secretKey: SecureBytes

    private init(publicKey: SigningPublicKey, secretKey: SecureBytes) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// Generates a new random key pair.
    ///
    /// The secret key is written straight into guarded memory.
    /// Traps if libsodium cannot be initialised.
    /// The corresponding C function is `crypto_sign_keypair`.
    ///
    /// - Returns: A fresh key pair.
    public static func generate() -> SigningKeyPair {
        Sodium.requireReady()
        var publicBytes = [UInt8](repeating: 0, count: crypto_sign_publickeybytes())
        var status: Int32 = -1
        let secret = SecureBytes(count: crypto_sign_secretkeybytes()) { secretPointer in
            status = publicBytes.withMutableCPointer { publicPointer, _ in
                crypto_sign_keypair(publicPointer, secretPointer)
            }
        }
        precondition(status == 0, "crypto_sign_keypair failed")
        return SigningKeyPair(publicKey: SigningPublicKey(trustedBytes: publicBytes), secretKey: secret)
    }

    /// Derives a key pair deterministically from a 32-byte seed.
    ///
    /// This is the RFC 8032 private key. The caller's seed array is not wiped.
    /// The corresponding C function is `crypto_sign_seed_keypair`.
    ///
    /// - Parameter seed: The 32-byte seed.
    /// - Throws: ``CryptoError`` with code ``CryptoError/Code/invalidKey`` if the seed is not
    ///   32 bytes, or ``CryptoError/Code/libraryUnavailable``.
    public init(seed: [UInt8]) throws(CryptoError) {
        try Sodium.ensureReady()
        guard seed.count == crypto_sign_seedbytes() else {
            throw CryptoError(
                .invalidKey,
                "Ed25519 seed must be \(crypto_sign_seedbytes()) bytes, got \(seed.count)"
            )
        }
        var publicBytes = [UInt8](repeating: 0, count: crypto_sign_publickeybytes())
        var status: Int32 = -1
        let secret = SecureBytes(count: crypto_sign_secretkeybytes()) { secretPointer in
            status = publicBytes.withMutableCPointer { publicPointer, _ in
                seed.withCPointer { seedPointer, _ in
                    crypto_sign_seed_keypair(publicPointer, secretPointer, seedPointer)
                }
            }
        }
        guard status == 0 else {
            throw CryptoError(.invalidKey, "crypto_sign_seed_keypair failed")
        }
        self.init(publicKey: SigningPublicKey(trustedBytes: publicBytes), secretKey: secret)
    }

    /// Restores a key pair from a 64-byte libsodium secret key, as written by
    /// ``exportSecretKey()``.
    ///
    /// The public key is taken from the secret key. The secret key is also checked for
    /// consistency: its embedded public key must be the one its seed derives, so a corrupted
    /// key file is rejected instead of producing signatures that never verify.
    /// The corresponding C function is `crypto_sign_ed25519_sk_to_pk` (the consistency check
    /// uses `crypto_sign_ed25519_sk_to_seed` and `crypto_sign_seed_keypair`).
    ///
    /// - Parameter secretKey: The 64-byte secret key.
    /// - Throws: ``CryptoError`` with code ``CryptoError/Code/invalidKey`` if the key is not
    ///   64 bytes or is inconsistent, or ``CryptoError/Code/libraryUnavailable``.
    public init(secretKey: [UInt8]) throws(CryptoError) {
        try Sodium.ensureReady()
        let secretLength = crypto_sign_secretkeybytes()
        guard secretKey.count == secretLength else {
            throw CryptoError(
                .invalidKey,
                "Ed25519 secret key must be \(secretLength) bytes, got \(secretKey.count)"
            )
        }
        let secret = SecureBytes(copying: secretKey)
        var publicBytes = [UInt8](repeating: 0, count: crypto_sign_publickeybytes())
        let extracted = secret.withSecretPointer { secretPointer, _ in
            publicBytes.withMutableCPointer { publicPointer, _ in
                crypto_sign_ed25519_sk_to_pk(publicPointer, secretPointer)
            }
        }
        guard extracted == 0 else {
            throw CryptoError(.invalidKey, "crypto_sign_ed25519_sk_to_pk failed")
        }
        guard Self.isConsistent(secret: secret, publicKey: publicBytes) else {
            throw CryptoError(
                .invalidKey,
                "Ed25519 secret key is inconsistent: embedded public key does not match its seed"
            )
        }
        self.init(publicKey: SigningPublicKey(trustedBytes: publicBytes), secretKey: secret)
    }

    /// Whether the public key embedded in `secret` is the one derived from its seed.
    ///
    /// The seed and rederived secret key stay in guarded memory.
    private static func isConsistent(secret: SecureBytes, publicKey: [UInt8]) -> Bool {
        var status: Int32 = -1
        let seed = SecureBytes(count: crypto_sign_seedbytes()) { seedPointer in
            status = secret.withSecretPointer { secretPointer, _ in
                crypto_sign_ed25519_sk_to_seed(seedPointer, secretPointer)
            }
        }
        guard status == 0 else { return false }
        var derivedPublic = [UInt8](repeating: 0, count: crypto_sign_publickeybytes())
        status = -1
        _ = SecureBytes(count: crypto_sign_secretkeybytes()) { derivedSecretPointer in
            status = seed.withSecretPointer { seedPointer, _ in
                derivedPublic.withMutableCPointer { derivedPublicPointer, _ in
                    crypto_sign_seed_keypair(derivedPublicPointer, derivedSecretPointer, seedPointer)
                }
            }
        }
        guard status == 0, derivedPublic.count == publicKey.count else { return false }
        // Public keys are not secret, but a constant-time comparison costs nothing here.
        let comparison = derivedPublic.withCPointer { derivedPointer, length in
            publicKey.withCPointer { publicPointer, _ in
                sodium_memcmp(derivedPointer, publicPointer, length)
            }
        }
        return comparison == 0
    }

    /// Signs `message`, returning a 64-byte detached signature.
    ///
    /// Ed25519 signing is deterministic: the same key and message give the same signature.
    /// Traps if libsodium cannot be initialised (impossible once this key pair exists).
    /// The corresponding C function is `crypto_sign_detached`.
    ///
    /// - Parameter message: The message to sign; may be empty.
    /// - Returns: The 64-byte signature.
    public func signature(for message: [UInt8]) -> [UInt8] {
        Sodium.requireReady()
        var signature = [UInt8](repeating: 0, count: crypto_sign_bytes())
        let status = signature.withMutableCPointer { signaturePointer, _ in
            message.withCPointer { messagePointer, messageLength in
                secretKey.withSecretPointer { secretPointer, _ in
                    crypto_sign_detached(
                        signaturePointer,
                        nil,
                        messagePointer,
                        UInt64(messageLength),
                        secretPointer
                    )
                }
            }
        }
        precondition(status == 0, "crypto_sign_detached failed")
        return signature
    }

    /// Copies out the 64-byte libsodium secret key (seed followed by public key), for
    /// writing a key file.
    ///
    /// The caller owns the copy, which is in ordinary memory.
    /// No C function is called; the format is the one `crypto_sign_keypair` produces.
    ///
    /// - Returns: The 64-byte secret key.
    public func exportSecretKey() -> [UInt8] {
        secretKey.copyBytes()
    }
}
