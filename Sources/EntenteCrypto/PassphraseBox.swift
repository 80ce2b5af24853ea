internal import CSodium

/// Secrets encrypted under a passphrase: Argon2id (`crypto_pwhash`, algorithm `ARGON2ID13`) derives a
/// 32-byte key from the passphrase and a random salt; `crypto_secretbox` (XSalsa20-Poly1305) encrypts and
/// authenticates the secret with it.
///
/// A wrong passphrase and a damaged file are indistinguishable by design: both fail authentication.
public enum PassphraseBox {
    /// Argon2id work factors, stored next to each sealed secret so they can be raised later.
    public struct Cost: Hashable, Sendable {
        /// Passes over memory (`opslimit`).
        public let operations: UInt64
        /// Memory in bytes (`memlimit`).
        public let memory: Int

        /// Creates a cost; libsodium refuses values outside its limits when deriving.
        public init(operations: UInt64, memory: Int) {
            self.operations = operations
            self.memory = memory
        }

        /// libsodium's interactive limits (2 passes, 64 MiB): about 0.1-0.3 s per derivation on a server.
        public static var interactive: Cost {
            Cost(
                operations: UInt64(crypto_pwhash_opslimit_interactive()),
                memory: crypto_pwhash_memlimit_interactive()
            )
        }
    }

    /// The salt length (`crypto_pwhash_SALTBYTES`).
    public static var saltByteCount: Int { crypto_pwhash_saltbytes() }

    /// The nonce length (`crypto_secretbox_NONCEBYTES`).
    public static var nonceByteCount: Int { crypto_secretbox_noncebytes() }

    /// A fresh random salt.
    public static func randomSalt() -> [UInt8] {
        Sodium.requireReady()
        var salt = [UInt8](repeating: 0, count: saltByteCount)
        randombytes_buf(&salt, salt.count)
        return salt
    }

    /// Derives the key for `passphrase` and `salt` (the slow step: derive once, seal or open many secrets).
    /// - Throws: `CryptoError` `.invalidLength` for a bad salt, `.invalidKey` if libsodium refuses the cost
    ///   (for example not enough memory).
    public static func deriveKey(passphrase: [UInt8], salt: [UInt8], cost: Cost) throws(CryptoError) -> SecureBytes {
        try Sodium.ensureReady()
        guard salt.count == saltByteCount else {
            throw CryptoError(.invalidLength, "salt must be \(saltByteCount) bytes, got \(salt.count)")
        }
        var status: Int32 = 0
        var characters = passphrase.map { CChar(bitPattern: $0) }
        defer { sodium_memzero(&characters, characters.count) }
        let key = SecureBytes(count: crypto_secretbox_keybytes()) { keyPointer in
            status = crypto_pwhash(
                keyPointer,
                UInt64(crypto_secretbox_keybytes()),
                characters,
                UInt64(characters.count),
                salt,
                cost.operations,
                cost.memory,
                crypto_pwhash_alg_argon2id13()
            )
        }
        guard status == 0 else {
            throw CryptoError(.invalidKey, "Argon2id refused the cost (out of memory or limits exceeded)")
        }
        return key
    }

    /// Encrypts `secret` under a derived key with a fresh random nonce.
    /// - Returns: the nonce and the ciphertext (secret plus a 16-byte tag).
    public static func seal(_ secret: [UInt8], key: SecureBytes) -> (nonce: [UInt8], ciphertext: [UInt8]) {
        Sodium.requireReady()
        var nonce = [UInt8](repeating: 0, count: nonceByteCount)
        randombytes_buf(&nonce, nonce.count)
        var ciphertext = [UInt8](repeating: 0, count: secret.count + crypto_secretbox_macbytes())
        key.withSecretPointer { keyPointer, _ in
            _ = crypto_secretbox_easy(&ciphertext, secret, UInt64(secret.count), nonce, keyPointer)
        }
        return (nonce, ciphertext)
    }

    /// Decrypts a sealed secret.
    /// - Throws: `CryptoError` `.decryptionFailed` for a wrong passphrase or damaged data, `.invalidLength`
    ///   for a bad nonce or a ciphertext shorter than the tag.
    public static func open(ciphertext: [UInt8], nonce: [UInt8], key: SecureBytes) throws(CryptoError) -> [UInt8] {
        try Sodium.ensureReady()
        guard nonce.count == nonceByteCount else {
            throw CryptoError(.invalidLength, "nonce must be \(nonceByteCount) bytes, got \(nonce.count)")
        }
        guard ciphertext.count >= crypto_secretbox_macbytes() else {
            throw CryptoError(.invalidLength, "sealed secret is shorter than its authentication tag")
        }
        var secret = [UInt8](repeating: 0, count: ciphertext.count - crypto_secretbox_macbytes())
        let status = key.withSecretPointer { keyPointer, _ in
            crypto_secretbox_open_easy(&secret, ciphertext, UInt64(ciphertext.count), nonce, keyPointer)
        }
        guard status == 0 else {
            throw CryptoError(.decryptionFailed, "wrong passphrase, or the sealed secret is damaged")
        }
        return secret
    }
}
