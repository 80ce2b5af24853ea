internal import CSodium

/// An X25519 public key for ``KeyExchangeKeyPair`` session-key agreement (32 bytes).
///
/// The corresponding C functions are `crypto_kx_client_session_keys` and
/// `crypto_kx_server_session_keys`, which take it as the peer's key.
public struct KeyExchangePublicKey: Hashable, Sendable {
    /// The length of a key-exchange public key in bytes.
    ///
    /// Matches the C function `crypto_kx_publickeybytes`.
    public static let byteCount = 32

    /// The raw 32-byte public key.
    public let bytes: [UInt8]

    /// Wraps raw public-key bytes after checking their length.
    ///
    /// A small-order point passes this check but makes ``KeyExchangeKeyPair/clientSessionKeys(serverKey:)``
    /// and ``KeyExchangeKeyPair/serverSessionKeys(clientKey:)`` throw.
    /// The length is compared with the C function `crypto_kx_publickeybytes`.
    ///
    /// - Parameter bytes: The 32-byte public key.
    /// - Throws: ``CryptoError`` with code ``CryptoError/Code/invalidKey`` for any other length,
    ///   or ``CryptoError/Code/libraryUnavailable``.
    public init(bytes: [UInt8]) throws(CryptoError) {
        try Sodium.ensureReady()
        guard bytes.count == crypto_kx_publickeybytes() else {
            throw CryptoError(
                .invalidKey,
                "key-exchange public key must be \(crypto_kx_publickeybytes()) bytes, got \(bytes.count)"
            )
        }
        self.bytes = bytes
    }

    /// Wraps bytes already known to have the right length (from libsodium itself).
    init(trustedBytes: [UInt8]) {
        self.bytes = trustedBytes
    }
}

/// The two keys of one session, as ``KeyExchangeKeyPair`` derives them.
///
/// The client's ``sending`` key is the server's ``receiving`` key and the other way round, so each
/// direction of a connection has its own key. Both are 32 bytes in guarded memory and usable directly as
/// ``SecretStreamKey``s. The corresponding C functions are `crypto_kx_client_session_keys` and
/// `crypto_kx_server_session_keys`.
public struct SessionKeys: Sendable {
    /// The key for what this side receives (`rx` in libsodium).
    public let receiving: SecretStreamKey
    /// The key for what this side sends (`tx` in libsodium).
    public let sending: SecretStreamKey
}

/// An ephemeral X25519 key pair for `crypto_kx` session-key agreement.
///
/// Generate a fresh pair for every connection, exchange the public halves, and call
/// ``clientSessionKeys(serverKey:)`` on the connecting side and ``serverSessionKeys(clientKey:)`` on the
/// accepting side: both get the same two keys, with the directions swapped. The secret key is held in
/// ``SecureBytes``. The corresponding C functions are `crypto_kx_keypair` and `crypto_kx_seed_keypair`.
///
/// ```swift
/// let client = KeyExchangeKeyPair.generate()
/// let server = KeyExchangeKeyPair.generate()
/// let clientKeys = try client.clientSessionKeys(serverKey: server.publicKey)
/// let serverKeys = try server.serverSessionKeys(clientKey: client.publicKey)
/// // clientKeys.sending opens what serverKeys.receiving expects, and the other way round.
/// ```
public struct KeyExchangeKeyPair: Sendable {
    /// The length of a session key in bytes.
    ///
    /// Matches the C function `crypto_kx_sessionkeybytes`.
    public static let sessionKeyByteCount = 32

    /// The public half, sent to the peer.
    public let publicKey: KeyExchangePublicKey

    /// The 32-byte X25519 secret key.
    private let secretKey: SecureBytes

    private init(publicKey: KeyExchangePublicKey, secretKey: SecureBytes) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// Generates a fresh random key pair, the secret half straight into guarded memory.
    ///
    /// Traps if libsodium cannot be initialised.
    /// The corresponding C function is `crypto_kx_keypair`.
    ///
    /// - Returns: A fresh key pair.
    public static func generate() -> KeyExchangeKeyPair {
        Sodium.requireReady()
        var publicBytes = [UInt8](repeating: 0, count: crypto_kx_publickeybytes())
        var status: Int32 = -1
        let secret = SecureBytes(count: crypto_kx_secretkeybytes()) { secretPointer in
            status = publicBytes.withMutableCPointer { publicPointer, _ in
                crypto_kx_keypair(publicPointer, secretPointer)
            }
        }
        precondition(status == 0, "crypto_kx_keypair failed")
        return KeyExchangeKeyPair(publicKey: KeyExchangePublicKey(trustedBytes: publicBytes), secretKey: secret)
    }

    /// Derives a key pair deterministically from a 32-byte seed (for test vectors; use ``generate()``
    /// for connections).
    ///
    /// The caller's seed array is not wiped.
    /// The corresponding C function is `crypto_kx_seed_keypair`.
    ///
    /// - Parameter seed: The 32-byte seed.
    /// - Throws: ``CryptoError`` with code ``CryptoError/Code/invalidKey`` if the seed is not 32 bytes,
    ///   or ``CryptoError/Code/libraryUnavailable``.
    public init(seed: [UInt8]) throws(CryptoError) {
        try Sodium.ensureReady()
        guard seed.count == crypto_kx_seedbytes() else {
            throw CryptoError(
                .invalidKey,
                "key-exchange seed must be \(crypto_kx_seedbytes()) bytes, got \(seed.count)"
            )
        }
        var publicBytes = [UInt8](repeating: 0, count: crypto_kx_publickeybytes())
        var status: Int32 = -1
        let secret = SecureBytes(count: crypto_kx_secretkeybytes()) { secretPointer in
            status = publicBytes.withMutableCPointer { publicPointer, _ in
                seed.withCPointer { seedPointer, _ in
                    crypto_kx_seed_keypair(publicPointer, secretPointer, seedPointer)
                }
            }
        }
        guard status == 0 else { throw CryptoError(.invalidKey, "crypto_kx_seed_keypair failed") }
        self.init(publicKey: KeyExchangePublicKey(trustedBytes: publicBytes), secretKey: secret)
    }

    /// The session keys of the connecting side.
    ///
    /// Both keys are a BLAKE2b-512 hash of the X25519 shared secret and both public keys, split in two.
    /// The corresponding C function is `crypto_kx_client_session_keys`.
    ///
    /// - Parameter serverKey: The accepting side's public key.
    /// - Returns: The client's receiving and sending keys.
    /// - Throws: ``CryptoError`` with code ``CryptoError/Code/invalidKey`` if `serverKey` is a small-order
    ///   point (the shared secret would be all-zero), or ``CryptoError/Code/libraryUnavailable``.
    public func clientSessionKeys(serverKey: KeyExchangePublicKey) throws(CryptoError) -> SessionKeys {
        try sessionKeys(peer: serverKey, asClient: true)
    }

    /// The session keys of the accepting side.
    ///
    /// The corresponding C function is `crypto_kx_server_session_keys`.
    ///
    /// - Parameter clientKey: The connecting side's public key.
    /// - Returns: The server's receiving and sending keys.
    /// - Throws: ``CryptoError`` with code ``CryptoError/Code/invalidKey`` if `clientKey` is a small-order
    ///   point, or ``CryptoError/Code/libraryUnavailable``.
    public func serverSessionKeys(clientKey: KeyExchangePublicKey) throws(CryptoError) -> SessionKeys {
        try sessionKeys(peer: clientKey, asClient: false)
    }

    private func sessionKeys(peer: KeyExchangePublicKey, asClient: Bool) throws(CryptoError) -> SessionKeys {
        try Sodium.ensureReady()
        let keyLength = crypto_kx_sessionkeybytes()
        guard peer.bytes.count == crypto_kx_publickeybytes(), publicKey.bytes.count == crypto_kx_publickeybytes() else {
            throw CryptoError(.invalidKey, "key-exchange public key must be \(crypto_kx_publickeybytes()) bytes")
        }
        guard keyLength == crypto_secretstream_xchacha20poly1305_keybytes() else {
            throw CryptoError(.invalidKey, "crypto_kx session keys do not fit crypto_secretstream keys")
        }
        // The C function writes both keys at once, so it runs inside two nested initialisers: each key goes
        // straight into its own guarded allocation, which is made read-only once its initialiser returns.
        var status: Int32 = -1
        var sending: SecureBytes?
        let receiving = SecureBytes(count: keyLength) { rxPointer in
            sending = SecureBytes(count: keyLength) { txPointer in
                status = publicKey.bytes.withCPointer { ownPublic, _ in
                    peer.bytes.withCPointer { peerPublic, _ in
                        secretKey.withSecretPointer { ownSecret, _ in
                            if asClient {
                                crypto_kx_client_session_keys(rxPointer, txPointer, ownPublic, ownSecret, peerPublic)
                            } else {
                                crypto_kx_server_session_keys(rxPointer, txPointer, ownPublic, ownSecret, peerPublic)
                            }
                        }
                    }
                }
            }
        }
        guard status == 0, let sending else {
            throw CryptoError(.invalidKey, "key exchange failed: the peer's public key is a small-order point")
        }
        return SessionKeys(receiving: SecretStreamKey(secret: receiving), sending: SecretStreamKey(secret: sending))
    }
}
