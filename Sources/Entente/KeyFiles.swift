import EntenteCore
import EntenteCrypto
import Foundation

/// Reads and writes the secret key files of a node directory (`keys/*.key`, mode 0600).
///
/// Two formats (Specs/keys.md):
/// - plain: the line `ENTENTE-SECRET-KEY/1 <kind>`, then the key in hex;
/// - passphrase-protected: the line `ENTENTE-SECRET-KEY/2 <kind> argon2id13 ops=<n> mem=<bytes> salt=<hex>
///   nonce=<hex>`, then the key sealed with `crypto_secretbox` under the Argon2id key of the passphrase, in hex.
enum KeyFiles {
    static let header = "ENTENTE-SECRET-KEY/1"
    static let sealedHeader = "ENTENTE-SECRET-KEY/2"

    /// The secret keys of a node directory: file name and kind tag of each.
    enum Slot: CaseIterable {
        case companySigning, companyEncryption, replicaSigning

        var file: String {
            switch self {
            case .companySigning: "company.sign.key"
            case .companyEncryption: "company.box.key"
            case .replicaSigning: "replica.sign.key"
            }
        }

        var kind: String {
            switch self {
            case .companySigning: "company-signing"
            case .companyEncryption: "company-encryption"
            case .replicaSigning: "replica-signing"
            }
        }

        func url(in keys: URL) -> URL { keys.appendingPathComponent(file) }
    }

    /// Where a key rotation writes the new replica key before the database switches to it (`Specs/keys.md`).
    static func pendingReplicaKey(in keys: URL) -> URL {
        keys.appendingPathComponent(Slot.replicaSigning.file + ".new")
    }

    /// Writes secret keys into `keys`, sealed under `passphrase` (one derivation for all) if it is given.
    static func write(_ secrets: [(Slot, [UInt8])], in keys: URL, passphrase: String?) throws(EntenteError) {
        let lock = try passphrase.map { passphrase throws(EntenteError) in try Lock.new(passphrase: passphrase) }
        for (slot, secret) in secrets { try write(secret, kind: slot.kind, to: slot.url(in: keys), lock: lock) }
    }

    /// Reads the secret key of `slot` in `keys`.
    static func read(_ slot: Slot, in keys: URL, unlocker: Unlocker) throws(EntenteError) -> [UInt8] {
        try read(kind: slot.kind, from: slot.url(in: keys), unlocker: unlocker)
    }

    /// The key derived from a passphrase for one salt and cost: derived once, used for every key file.
    struct Lock {
        let salt: [UInt8]
        let cost: PassphraseBox.Cost
        let key: SecureBytes

        /// Derives a lock with a fresh salt.
        static func new(passphrase: String) throws(EntenteError) -> Lock {
            try derive(passphrase: passphrase, salt: PassphraseBox.randomSalt(), cost: .interactive)
        }

        static func derive(passphrase: String, salt: [UInt8], cost: PassphraseBox.Cost) throws(EntenteError) -> Lock {
            guard !passphrase.isEmpty else { throw EntenteError(.invalidArgument, "the passphrase is empty") }
            do {
                return Lock(salt: salt, cost: cost, key: try PassphraseBox.deriveKey(passphrase: Array(passphrase.utf8), salt: salt, cost: cost))
            } catch {
                throw EntenteError(.keys, "cannot derive a key from the passphrase", cause: error)
            }
        }
    }

    /// Opens passphrase-protected key files, deriving each distinct salt's key once.
    final class Unlocker {
        let passphrase: String?
        private var locks: [[UInt8]: Lock] = [:]

        init(passphrase: String?) { self.passphrase = passphrase }

        func lock(salt: [UInt8], cost: PassphraseBox.Cost, for url: URL) throws(EntenteError) -> Lock {
            if let lock = locks[salt], lock.cost == cost { return lock }
            guard let passphrase, !passphrase.isEmpty else {
                throw EntenteError(
                    .keys,
                    "the keys in \(url.deletingLastPathComponent().path) are protected by a passphrase: "
                        + "set ENTENTE_PASSPHRASE (or type it when asked)"
                )
            }
            let lock = try Lock.derive(passphrase: passphrase, salt: salt, cost: cost)
            locks[salt] = lock
            return lock
        }
    }

    static func write(_ secret: [UInt8], kind: String, to url: URL, lock: Lock? = nil) throws(EntenteError) {
        let text: String
        if let lock {
            let sealed = PassphraseBox.seal(secret, key: lock.key)
            text = "\(sealedHeader) \(kind) argon2id13 ops=\(lock.cost.operations) mem=\(lock.cost.memory) "
                + "salt=\(Hex.encode(lock.salt)) nonce=\(Hex.encode(sealed.nonce))\n\(Hex.encode(sealed.ciphertext))\n"
        } else {
            text = "\(header) \(kind)\n\(Hex.encode(secret))\n"
        }
        // Written to a temporary file and renamed, so a crash never leaves a half-written key.
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp")
        let created = FileManager.default.createFile(
            atPath: temporary.path,
            contents: Data(text.utf8),
            attributes: [.posixPermissions: 0o600]
        )
        guard created, rename(temporary.path, url.path) == 0 else {
            throw EntenteError(.keys, "cannot write key file \(url.path)")
        }
    }

    /// Whether the key file at `url` is passphrase-protected.
    static func isSealed(_ url: URL) -> Bool {
        guard let data = FileManager.default.contents(atPath: url.path) else { return false }
        return data.starts(with: Array(sealedHeader.utf8))
    }

    static func read(kind: String, from url: URL, unlocker: Unlocker) throws(EntenteError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw EntenteError(.keys, "key file \(url.path) is missing or unreadable")
        }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        func invalid() -> EntenteError { EntenteError(.keys, "key file \(url.path) is not a valid \(kind) key file") }
        guard lines.count == 2 else { throw invalid() }
        if lines[0] == "\(header) \(kind)" {
            guard let secret = Hex.decode(lines[1]) else { throw invalid() }
            return secret
        }
        let words = lines[0].split(separator: " ").map(String.init)
        guard words.count == 7, words[0] == sealedHeader, words[1] == kind, words[2] == "argon2id13" else {
            throw invalid()
        }
        var fields: [String: String] = [:]
        for word in words[3...] {
            let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw invalid() }
            fields[parts[0]] = parts[1]
        }
        guard let operations = fields["ops"].flatMap(UInt64.init), let memory = fields["mem"].flatMap(Int.init),
            let salt = fields["salt"].flatMap(Hex.decode), let nonce = fields["nonce"].flatMap(Hex.decode),
            let ciphertext = Hex.decode(lines[1])
        else { throw invalid() }
        let lock = try unlocker.lock(salt: salt, cost: PassphraseBox.Cost(operations: operations, memory: memory), for: url)
        do { return try PassphraseBox.open(ciphertext: ciphertext, nonce: nonce, key: lock.key) } catch {
            throw EntenteError(.keys, "wrong passphrase for \(url.path) (or the key file is damaged)", cause: error)
        }
    }
}
