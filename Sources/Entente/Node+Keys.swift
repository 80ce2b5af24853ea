import EntenteCrypto
public import Foundation

extension Node {
    static let keyFiles = [
        ("company.sign.key", "company-signing"), ("company.box.key", "company-encryption"),
        ("replica.sign.key", "replica-signing"),
    ]

    /// Whether the secret key files in `directory` are protected by a passphrase (so `open` needs one).
    public static func keysAreProtected(at directory: URL) -> Bool {
        let keys = directory.appendingPathComponent("keys")
        return keyFiles.contains { KeyFiles.isSealed(keys.appendingPathComponent($0.0)) }
    }

    /// Protects the key files with a new passphrase, changes it, or (with `new` nil) removes it. Each file is
    /// rewritten atomically; `old` must open them if they are protected.
    /// - Throws: `.keys` for a wrong old passphrase (nothing is rewritten then).
    public static func changePassphrase(at directory: URL, old: String?, new: String?) throws(EntenteError) {
        let keys = directory.appendingPathComponent("keys")
        let unlocker = KeyFiles.Unlocker(passphrase: old)
        var secrets: [(URL, String, [UInt8])] = []
        for (file, kind) in keyFiles {
            let url = keys.appendingPathComponent(file)
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            secrets.append((url, kind, try KeyFiles.read(kind: kind, from: url, unlocker: unlocker)))
        }
        guard !secrets.isEmpty else { throw EntenteError(.notFound, "no key files in \(keys.path)") }
        let lock = try new.map { passphrase throws(EntenteError) in try KeyFiles.Lock.new(passphrase: passphrase) }
        for (url, kind, secret) in secrets { try KeyFiles.write(secret, kind: kind, to: url, lock: lock) }
    }
}
