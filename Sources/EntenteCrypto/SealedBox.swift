internal import CSodium

/// An X25519 public key (32 bytes) that sealed boxes are addressed to.
///
/// The corresponding C function is `crypto_box_seal`, which encrypts to it.
public struct BoxPublicKey: Hashable, Sendable {
    /// The length of an X25519 public key in bytes.
    ///
    /// Matches the C function `crypto_box_publickeybytes`.
    public static let byteCount = 32

    /// The raw 32-byte public key.
    public let bytes: [UInt8]

    /// Wraps raw public-key bytes after checking them.
    ///
    /// Besides the length, the key must not be a small-order point: such keys make every
    /// Diffie-Hellman result all-zero, and `crypto_box_seal` refuses them. Rejecting them
    /// here keeps ``SealedBox/seal(_:to:)`` infallible.
    /// The length is compared with `crypto_box_publickeybytes`; the point is checked with
    /// the C function `crypto_scalarmult`.
    ///
    /// - Parameter bytes: The 32-byte public key.
    /// - Throws: ``CryptoError`` with code ``CryptoError/Code/invalidKey`` for a wrong length
    ///   or a small-order point, or ``CryptoError/Code/libraryUnavailable``.
    public init(bytes: [UInt8]) throws(CryptoError) {
        try Sodium.ensureReady()
        guard bytes.count == crypto_box_publickeybytes(),
            bytes.count == crypto_scalarmult_bytes()
        else {
            throw CryptoError(
                .invalidKey,
                "X25519 public key must be \(crypto_box_publickeybytes()) bytes, got \(bytes.count)"
            )
        }
        guard Self.hasLargeOrder(bytes) else {
            throw CryptoError(.invalidKey, "X25519 public key is a small-order point")
        }
        self.bytes = bytes
    }

    /// Wraps bytes already known to be a valid key (from libsodium itself).
    init(trustedBytes: [UInt8]) {
        self.bytes = trustedBytes
    }

    /// Whether `point` (32 bytes) is usable for Diffie-Hellman.
    ///
    /// X25519 clamps every scalar to a multiple of the cofactor that is not a multiple of
    /// the (twist) prime order, so the shared secret is all-zero, and `crypto_scalarmult`
    /// returns -1, exactly when the point has small order, whatever the scalar. Testing with
    /// one fixed scalar therefore predicts the outcome for every ephemeral key
    /// `crypto_box_seal` may pick.
    private static func hasLargeOrder(_ point: [UInt8]) -> Bool {
        let scalar = [UInt8](repeating: 0x42, count: crypto_scalarmult_scalarbytes())
        var shared = [UInt8](repeating: 0, count: crypto_scalarmult_bytes())
        let status = shared.withMutableCPointer { sharedPointer, _ in
            scalar.withCPointer { scalarPointer, _ in
                point.withCPointer { pointPointer, _ in
                    crypto_scalarmult(sharedPointer, scalarPointer, pointPointer)
                }
            }
        }
        return status == 0
    }
}

/// An X25519 key pair for opening sealed boxes.
///
/// The 32-byte secret key is held in ``SecureBytes``.
/// The corresponding C functions are `crypto_box_keypair` and `crypto_scalarmult_base`.
public struct BoxKeyPair: Sendable {
    /// The public half, which senders seal to.
    public let publicKey: BoxPublicKey

    /// The 32-byte X25519 secret key.
    private let secretKey: SecureBytes

    private init(publicKey: BoxPublicKey, secretKey: SecureBytes) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// Generates a new random key pair.
    ///
    /// The secret key is written straight into guarded memory.
    /// Traps if libsodium cannot be initialised.
    /// The corresponding C function is `crypto_box_keypair`.
    ///
    /// - Returns: A fresh key pair.
    public static func generate() -> BoxKeyPair {
        Sodium.requireReady()
        var publicBytes = [UInt8](repeating: 0, count: crypto_box_publickeybytes())
        var status: Int32 = -1
        let secret = SecureBytes(count: crypto_box_secretkeybytes()) { secretPointer in
            status = publicBytes.withMutableCPointer { publicPointer, _ in
                crypto_box_keypair(publicPointer, secretPointer)
            }
        }
        precondition(status == 0, "crypto_box_keypair failed")
        return BoxKeyPair(publicKey: BoxPublicKey(trustedBytes: publicBytes), secretKey: secret)
    }

    /// Restores a key pair from a 32-byte X25519 secret key, as written by
    /// ``exportSecretKey()``.
    ///
    /// The public key is derived from the secret key. Any 32 bytes are a valid secret key
    /// (X25519 clamps them). The caller's array is not wiped.
    /// The corresponding C function is `crypto_scalarmult_base`.
    ///
    /// - Parameter secretKey: The 32-byte secret key.
    /// - Throws: ``CryptoError`` with code ``CryptoError/Code/invalidKey`` if the key is not
    ///   32 bytes, or ``CryptoError/Code/libraryUnavailable``.
    public init(secretKey: [UInt8]) throws(CryptoError) {
        try Sodium.ensureReady()
        guard secretKey.count == crypto_box_secretkeybytes(),
            secretKey.count == crypto_scalarmult_scalarbytes()
        else {
            throw CryptoError(
                .invalidKey,
                "X25519 secret key must be \(crypto_box_secretkeybytes()) bytes, got \(secretKey.count)"
            )
        }
        let secret = SecureBytes(copying: secretKey)
        var publicBytes = [UInt8](repeating: 0, count: crypto_scalarmult_bytes())
        let status = secret.withSecretPointer { secretPointer, _ in
            publicBytes.withMutableCPointer { publicPointer, _ in
                crypto_scalarmult_base(publicPointer, secretPointer)
            }
        }
        guard status == 0 else {
            throw CryptoError(.invalidKey, "crypto_scalarmult_base failed")
        }
        self.init(publicKey: BoxPublicKey(trustedBytes: publicBytes), secretKey: secret)
    }

    /// Copies out the 32-byte X25519 secret key, for writing a key file.
    ///
    /// The caller owns the copy, which is in ordinary memory.
    /// No C function is called; the format is the one `crypto_box_keypair` produces.
    ///
    /// - Returns: The 32-byte secret key.
    public func exportSecretKey() -> [UInt8] {
        secretKey.copyBytes()
    }

    /// Calls `body` with a pointer to the 32-byte secret key.
    func withSecretPointer<R>(_ body: (UnsafePointer<UInt8>, Int) -> R) -> R {
        secretKey.withSecretPointer(body)
    }
}

/// Anonymous public-key encryption: anyone can seal to a ``BoxPublicKey``; only the holder
/// of the matching ``BoxKeyPair`` can open, and the sender stays anonymous.
///
/// The ciphertext is an ephemeral public key followed by an XSalsa20-Poly1305 box, so it is
/// ``overhead`` bytes longer than the message.
/// The corresponding C functions are `crypto_box_seal` and `crypto_box_seal_open`.
public enum SealedBox {
    /// The number of bytes a sealed box adds to its message (48).
    ///
    /// The corresponding C function is `crypto_box_sealbytes`.
    public static var overhead: Int {
        crypto_box_sealbytes()
    }

    /// Encrypts `message` so that only the owner of `recipient` can read it.
    ///
    /// Each call uses a fresh ephemeral key, so sealing the same message twice gives
    /// different ciphertexts. Traps if libsodium cannot be initialised.
    /// The corresponding C function is `crypto_box_seal`.
    ///
    /// - Parameters:
    ///   - message: The plaintext; may be empty.
    ///   - recipient: The recipient's public key.
    /// - Returns: The ciphertext, ``overhead`` bytes longer than `message`.
    public static func seal(_ message: [UInt8], to recipient: BoxPublicKey) -> [UInt8] {
        Sodium.requireReady()
        let (length, overflow) = message.count.addingReportingOverflow(crypto_box_sealbytes())
        precondition(!overflow, "message too large to seal")
        precondition(recipient.bytes.count == crypto_box_publickeybytes(), "invalid BoxPublicKey")
        var ciphertext = [UInt8](repeating: 0, count: length)
        let status = ciphertext.withMutableCPointer { ciphertextPointer, _ in
            message.withCPointer { messagePointer, messageLength in
                recipient.bytes.withCPointer { recipientPointer, _ in
                    crypto_box_seal(ciphertextPointer, messagePointer, UInt64(messageLength), recipientPointer)
                }
            }
        }
        // BoxPublicKey rejects the small-order points that make crypto_box_seal fail.
        precondition(status == 0, "crypto_box_seal failed")
        return ciphertext
    }

    /// Decrypts and authenticates a sealed box addressed to `keyPair`.
    ///
    /// Never traps on untrusted input.
    /// The corresponding C function is `crypto_box_seal_open`.
    ///
    /// - Parameters:
    ///   - ciphertext: The sealed box.
    ///   - keyPair: The recipient's key pair.
    /// - Returns: The plaintext.
    /// - Throws: ``CryptoError`` with code ``CryptoError/Code/invalidLength`` if the
    ///   ciphertext is shorter than ``overhead``, ``CryptoError/Code/decryptionFailed`` if it
    ///   was tampered with or is not addressed to `keyPair`, or
    ///   ``CryptoError/Code/libraryUnavailable``.
    public static func open(_ ciphertext: [UInt8], with keyPair: BoxKeyPair) throws(CryptoError) -> [UInt8] {
        try Sodium.ensureReady()
        let overhead = crypto_box_sealbytes()
        guard ciphertext.count >= overhead else {
            throw CryptoError(
                .invalidLength,
                "sealed box must be at least \(overhead) bytes, got \(ciphertext.count)"
            )
        }
        guard keyPair.publicKey.bytes.count == crypto_box_publickeybytes() else {
            throw CryptoError(.invalidKey, "invalid BoxKeyPair public key")
        }
        var message = [UInt8](repeating: 0, count: ciphertext.count - overhead)
        let status = message.withMutableCPointer { messagePointer, _ in
            ciphertext.withCPointer { ciphertextPointer, ciphertextLength in
                keyPair.publicKey.bytes.withCPointer { publicPointer, _ in
                    keyPair.withSecretPointer { secretPointer, _ in
                        crypto_box_seal_open(
                            messagePointer,
                            ciphertextPointer,
                            UInt64(ciphertextLength),
                            publicPointer,
                            secretPointer
                        )
                    }
                }
            }
        }
        guard status == 0 else {
            throw CryptoError(.decryptionFailed, "sealed box could not be opened")
        }
        return message
    }
}
