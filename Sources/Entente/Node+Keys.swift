public import EntenteCore
import EntenteCrypto
import EntenteStore
import EntenteWire
public import Foundation

extension Node {
    /// Whether the secret key files in `directory` are protected by a passphrase (so `open` needs one).
    public static func keysAreProtected(at directory: URL) -> Bool {
        let keys = directory.appendingPathComponent("keys")
        return KeyFiles.Slot.allCases.contains { KeyFiles.isSealed($0.url(in: keys)) }
    }

    /// Protects the key files with a new passphrase, changes it, or (with `new` nil) removes it. Each file is
    /// rewritten atomically; `old` must open them if they are protected.
    /// - Throws: `.keys` for a wrong old passphrase (nothing is rewritten then).
    public static func changePassphrase(at directory: URL, old: String?, new: String?) throws(EntenteError) {
        let keys = directory.appendingPathComponent("keys")
        let unlocker = KeyFiles.Unlocker(passphrase: old)
        var secrets: [(KeyFiles.Slot, [UInt8])] = []
        for slot in KeyFiles.Slot.allCases where FileManager.default.fileExists(atPath: slot.url(in: keys).path) {
            secrets.append((slot, try KeyFiles.read(slot, in: keys, unlocker: unlocker)))
        }
        guard !secrets.isEmpty else { throw EntenteError(.notFound, "no key files in \(keys.path)") }
        try KeyFiles.write(secrets, in: keys, passphrase: new)
    }

    /// Replaces this replica's signing key with a new one certified by the company key (`entente key rotate`),
    /// for example on a schedule or after a suspected leak. Partners accept the new key because its certificate
    /// verifies against the company key they pinned; envelopes signed by the old key stay valid. The new replica
    /// numbers its envelopes from 1. Needs the company signing key (a company node, not an enrolled laptop).
    ///
    /// Crash-safe: the new key is written beside the old one first, the database switches certificates in one
    /// transaction, then the new key file replaces the old; `open` finishes a rotation a crash interrupted.
    /// - Returns: the old and the new replica ids.
    public static func rotateReplicaKey(
        at directory: URL,
        options: Options = Options()
    ) throws(EntenteError) -> (old: ReplicaID, new: ReplicaID) {
        let node = try open(at: directory, options: options)
        guard let companyKey = node.companyKey else {
            throw EntenteError(
                .keys,
                "this replica holds no company signing key; rotate keys on a company node (or enroll a new replica)"
            )
        }
        let keys = directory.appendingPathComponent("keys")
        let current = KeyFiles.Slot.replicaSigning.url(in: keys)
        let pending = KeyFiles.pendingReplicaKey(in: keys)
        let lock = try (keysAreProtected(at: directory) ? options.passphrase : nil).map {
            passphrase throws(EntenteError) in try KeyFiles.Lock.new(passphrase: passphrase)
        }
        let replacement = SigningKeyPair.generate()
        let certificate = ReplicaCertificate.issue(companyKey: companyKey, replicaKey: replacement.publicKey)
        try KeyFiles.write(replacement.exportSecretKey(), kind: KeyFiles.Slot.replicaSigning.kind, to: pending, lock: lock)
        do {
            try node.store.write { tx in
                try tx.setMeta("certificate", certificate.signature)
                try tx.resetOutgoingSequences()
            }
        } catch {
            try? FileManager.default.removeItem(at: pending)
            throw EntenteError(.storage, "cannot record the new replica certificate", cause: error)
        }
        guard rename(pending.path, current.path) == 0 else {
            throw EntenteError(.keys, "cannot replace \(current.path); run any command to finish the rotation")
        }
        return (node.replica, certificate.replica)
    }
}
