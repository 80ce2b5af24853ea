import EntenteCore
import EntenteCrypto
import EntenteDomain
import EntenteStore
import EntenteSync
import EntenteWire
public import Foundation

/// A company's replica: its keys, its SQLite store, and the operations on shared objects.
///
/// `Node` is the one entry point of the library: a CLI call, an embedding server or a test creates or
/// opens a node directory, writes objects, and exchanges bundles with partners. Every method that changes
/// state does so in one SQLite transaction: it either happens completely or not at all.
///
/// ```swift
/// let globex = try Node.create(at: URL(filePath: "globex"), companyName: "Globex")
/// try await globex.addPartner(initechCard)
/// var changes = Changes()
/// changes.joint = [FieldValue("title", "Acme data platform")]
/// changes.privateFields = [FieldValue("deal_size", "1200000")]
/// let id = try await globex.create(type: "opportunity", changes: changes, with: [initechCard.company])
/// let bundle = try await globex.exportBundle(to: initechCard.company)
/// ```
public actor Node {
    /// Options for opening a node.
    public struct Options: Sendable {
        /// Milliseconds since the Unix epoch; injected so tests and simulations control time.
        public var now: @Sendable () -> UInt64
        /// How far (ms) in the future a partner's timestamp may be before its envelope is refused.
        public var maxClockDrift: UInt64
        /// The passphrase protecting the secret key files: `create` and `join` encrypt them with it (Argon2id
        /// and `crypto_secretbox`); `open` needs it if they are protected. Nil: plain key files.
        public var passphrase: String?

        /// Wall-clock time and a ten-minute drift bound.
        public init(
            now: @escaping @Sendable () -> UInt64 = { UInt64(Date().timeIntervalSince1970 * 1000) },
            maxClockDrift: UInt64 = HybridClock.defaultMaxDrift,
            passphrase: String? = nil
        ) {
            self.now = now
            self.maxClockDrift = maxClockDrift
            self.passphrase = passphrase
        }
    }

    /// The node directory.
    public nonisolated let directory: URL
    /// This node's company.
    public nonisolated let company: CompanyID
    /// This node's replica.
    public nonisolated let replica: ReplicaID
    /// This company's partner card.
    public nonisolated let card: PartnerCard

    nonisolated let store: Store
    /// The company signing key; nil on a replica enrolled from another one.
    nonisolated let companyKey: SigningKeyPair?
    nonisolated let encryptionKey: BoxKeyPair
    nonisolated let credentials: ReplicaCredentials
    nonisolated let options: Options
    var clock: HybridClock
    var subscribers: [Int: AsyncStream<Change>.Continuation] = [:]
    var nextSubscriber = 0
    var pendingChanges: [Change] = []
    /// Objects whose state changed in the current import (or local write): their waiting parts are retried.
    var importChanged: Set<ObjectID> = []
    /// During an import, the objects with waiting parts: only their changes are recorded in `importChanged`, so a
    /// full sync does not keep every object it receives (nil outside an import: every change is recorded).
    var importWaiting: Set<ObjectID>?

    static let databaseName = "entente.sqlite"

    /// The path of the node's SQLite database.
    public nonisolated var databasePath: String { directory.appendingPathComponent(Self.databaseName).path }

    private init(
        directory: URL,
        store: Store,
        companyKey: SigningKeyPair?,
        card: PartnerCard,
        encryptionKey: BoxKeyPair,
        credentials: ReplicaCredentials,
        clock: HybridClock,
        options: Options
    ) {
        self.directory = directory
        self.store = store
        self.companyKey = companyKey
        self.card = card
        self.company = card.company
        self.replica = credentials.replica
        self.encryptionKey = encryptionKey
        self.credentials = credentials
        self.clock = clock
        self.options = options
    }

    /// Creates a node directory: a company signing key, an encryption key, a replica key certified by the
    /// company key (all written 0600 under `keys/`), and the database.
    /// - Throws: `EntenteError` `.alreadyExists` if the directory already holds a node.
    public static func create(
        at directory: URL,
        companyName: String,
        address: String? = nil,
        options: Options = Options()
    ) throws(EntenteError) -> Node {
        let name = companyName.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.utf8.count <= PartnerCard.maxNameBytes else {
            throw EntenteError(.invalidArgument, "company name must be 1 to \(PartnerCard.maxNameBytes) bytes")
        }
        let keys = try prepareDirectory(directory)
        do { try Sodium.ensureReady() } catch { throw EntenteError(.keys, "libsodium is unavailable", cause: error) }
        let companyKey = SigningKeyPair.generate()
        let encryptionKey = BoxKeyPair.generate()
        let replicaKey = SigningKeyPair.generate()
        try KeyFiles.write(
            [
                (.companySigning, companyKey.exportSecretKey()), (.companyEncryption, encryptionKey.exportSecretKey()),
                (.replicaSigning, replicaKey.exportSecretKey()),
            ],
            in: keys,
            passphrase: options.passphrase
        )
        let certificate = ReplicaCertificate.issue(companyKey: companyKey, replicaKey: replicaKey.publicKey)
        let card = PartnerCard.issue(
            name: name,
            companyKey: companyKey,
            encryptionKey: encryptionKey.publicKey,
            address: address
        )
        let store = try openStore(directory)
        do {
            try store.write { tx in
                try tx.setMeta("certificate", certificate.signature)
                try tx.saveCompany(card, isSelf: true)
            }
        } catch { throw EntenteError(.storage, "cannot initialise the database", cause: error) }
        return try open(at: directory, options: options)
    }

    /// Opens an existing node directory.
    /// - Throws: `EntenteError` `.notFound` if there is no node there, `.keys` if a key file is bad.
    public static func open(at directory: URL, options: Options = Options()) throws(EntenteError) -> Node {
        guard FileManager.default.fileExists(atPath: directory.appendingPathComponent(databaseName).path) else {
            throw EntenteError(
                .notFound,
                "no Entente node in \(directory.path); run `entente init --company NAME` first"
            )
        }
        do { try Sodium.ensureReady() } catch { throw EntenteError(.keys, "libsodium is unavailable", cause: error) }
        let keys = directory.appendingPathComponent("keys")
        let companyKey: SigningKeyPair?
        let encryptionKey: BoxKeyPair
        var replicaKey: SigningKeyPair
        let unlocker = KeyFiles.Unlocker(passphrase: options.passphrase)
        do {
            // A replica enrolled from another one (a laptop) holds no company signing key.
            if FileManager.default.fileExists(atPath: KeyFiles.Slot.companySigning.url(in: keys).path) {
                companyKey = try SigningKeyPair(secretKey: try KeyFiles.read(.companySigning, in: keys, unlocker: unlocker))
            } else {
                companyKey = nil
            }
            encryptionKey = try BoxKeyPair(secretKey: try KeyFiles.read(.companyEncryption, in: keys, unlocker: unlocker))
            replicaKey = try SigningKeyPair(secretKey: try KeyFiles.read(.replicaSigning, in: keys, unlocker: unlocker))
        } catch let error as EntenteError {
            throw error
        } catch {
            throw EntenteError(.keys, "a key file in \(keys.path) holds an invalid key", cause: error)
        }
        let store = try openStore(directory)
        let loaded: (card: PartnerCard, signature: [UInt8], clock: [UInt8]?)
        do {
            loaded = try store.read { tx in
                guard let me = try tx.companies().first(where: \.isSelf), let signature = try tx.meta("certificate")
                else {
                    throw EntenteError(
                        .keys,
                        "the database in \(directory.path) has no identity; is it an Entente node?"
                    )
                }
                if let companyKey, companyKey.publicKey != me.card.signingKey {
                    throw EntenteError(
                        .keys,
                        "the database in \(directory.path) belongs to another company than its keys"
                    )
                }
                return (me.card, signature, try tx.meta("clock"))
            }
        } catch let error as EntenteError {
            throw error
        } catch {
            throw EntenteError(.storage, "cannot read the node's identity", cause: error)
        }
        let company = loaded.card.company
        var certificate = ReplicaCertificate(
            company: company,
            replicaKey: replicaKey.publicKey,
            signature: loaded.signature
        )
        // A key rotation interrupted by a crash (`rotateReplicaKey`): finish it or roll it back.
        let pending = KeyFiles.pendingReplicaKey(in: keys)
        if FileManager.default.fileExists(atPath: pending.path) {
            if !certificate.isValid(companyKey: loaded.card.signingKey),
                let newKey = try? SigningKeyPair(
                    secretKey: try KeyFiles.read(kind: KeyFiles.Slot.replicaSigning.kind, from: pending, unlocker: unlocker)
                )
            {
                let rotated = ReplicaCertificate(company: company, replicaKey: newKey.publicKey, signature: loaded.signature)
                if rotated.isValid(companyKey: loaded.card.signingKey),
                    rename(pending.path, KeyFiles.Slot.replicaSigning.url(in: keys).path) == 0
                {
                    replicaKey = newKey
                    certificate = rotated
                }
            } else {
                try? FileManager.default.removeItem(at: pending)
            }
        }
        guard certificate.isValid(companyKey: loaded.card.signingKey),
            loaded.card.encryptionKey == encryptionKey.publicKey
        else {
            throw EntenteError(.keys, "the replica certificate does not match the company key")
        }
        var clock = HybridClock(replica: certificate.replica, maxDrift: options.maxClockDrift)
        if let bytes = loaded.clock, let saved = try? StorageCoding.decodeTimestamp(bytes) {
            clock.observe(saved)
        }
        return Node(
            directory: directory,
            store: store,
            companyKey: companyKey,
            card: loaded.card,
            encryptionKey: encryptionKey,
            credentials: ReplicaCredentials(key: replicaKey, certificate: certificate),
            clock: clock,
            options: options
        )
    }

    /// Creates a new node directory (mode 0700) and its `keys` folder; refuses a directory holding a node.
    static func prepareDirectory(_ directory: URL) throws(EntenteError) -> URL {
        let manager = FileManager.default
        if manager.fileExists(atPath: directory.appendingPathComponent(databaseName).path) {
            throw EntenteError(.alreadyExists, "\(directory.path) already holds an Entente node")
        }
        let keys = directory.appendingPathComponent("keys")
        do {
            try manager.createDirectory(
                at: keys,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
            try manager.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory.path)
        } catch {
            throw EntenteError(.keys, "cannot create node directory \(directory.path): \(error.localizedDescription)")
        }
        return keys
    }

    static func openStore(_ directory: URL) throws(EntenteError) -> Store {
        do { return try Store.open(path: directory.appendingPathComponent(databaseName).path) } catch {
            throw EntenteError(.storage, error.message, cause: error)
        }
    }

    /// The store's write transactions since the last call (their count and the longest): for the benchmark.
    package nonisolated func takeWriteStatistics() -> (transactions: Int, longest: Duration) {
        let statistics = store.takeWriteStatistics()
        return (statistics.transactions, statistics.longest)
    }

    /// Runs a store transaction, turning lower-level errors into `EntenteError`.
    func transaction<T>(_ body: (StoreTransaction) throws -> T) throws(EntenteError) -> T {
        do {
            let result = try store.write(body)
            flushChanges(committed: true)
            return result
        } catch {
            flushChanges(committed: false)
            throw Self.translate(error)
        }
    }

    nonisolated func reading<T>(_ body: (StoreTransaction) throws -> T) throws(EntenteError) -> T {
        do { return try store.read(body) } catch { throw Self.translate(error) }
    }

    static func translate(_ error: any Error) -> EntenteError {
        switch error {
        case let error as EntenteError: error
        case let error as WireError: EntenteError(.badInput, error.message, cause: error)
        case let error as AuthorityError: EntenteError(.rejected, error.message, cause: error)
        case let error as StoreError where error.code == .equivocation:
            EntenteError(.rejected, error.message, cause: error)
        case let error as StoreError: EntenteError(.storage, error.message, cause: error)
        default: EntenteError(.storage, "\(error)", cause: error)
        }
    }

    func saveClock(_ tx: StoreTransaction) throws {
        let latest = clock.latest
        try tx.setMeta(
            "clock",
            StorageCoding.encode(Timestamp(physical: latest.physical, counter: latest.counter, replica: replica))
        )
    }
}
