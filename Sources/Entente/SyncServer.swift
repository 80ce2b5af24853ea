import EntenteCore
import EntenteSync
import Synchronization

/// A node's network endpoint: accepts partners over TCP and syncs with each (many at once), and optionally
/// pulls from every partner with an address at a fixed interval. An application embeds it; `entente serve`
/// is a thin wrapper around it.
///
/// Every connection is authenticated before anything else is read: a company that is not a pinned partner
/// is refused. A peer that exceeds a limit, stalls the handshake, goes silent or stops reading is cut off,
/// and the others are not held up. Events (for logs) go to ``Options/onEvent``; the server never prints.
///
/// ```swift
/// let server = try SyncServer(node: node, listeningOn: "0.0.0.0:7400")
/// try await withThrowingTaskGroup(of: Void.self) { group in
///     group.addTask { try await server.run() }
///     print("listening on", try await server.address())
///     // ... later:
///     server.shutdown()
/// }
/// ```
public final class SyncServer: Sendable {
    /// What the server reports while it runs.
    public enum Event: Sendable {
        /// It listens on this address (the port chosen if 0 was asked for).
        case listening(address: String)
        /// A peer connected.
        case accepted(remote: String)
        /// The peer proved it is this pinned partner.
        case authenticated(remote: String, partner: String)
        /// A batch moved (sent and acknowledged, or received and imported).
        case progress(remote: String, partner: String, SyncProgress)
        /// A sync completed.
        case synced(remote: String, partner: String, SyncReport)
        /// A session failed or was cut off; `partner` is nil if it never authenticated.
        case failed(remote: String, partner: String?, EntenteError)
        /// A peer was turned away because ``Options/maxConnections`` sessions were running.
        case busy(remote: String)
        /// A periodic pull from a partner completed.
        case pulled(partner: String, SyncReport)
        /// A periodic pull from a partner failed.
        case pullFailed(partner: String, EntenteError)
    }

    /// How the server behaves.
    public struct Options: Sendable {
        /// The protocol's bounds and timeouts, for every session.
        public var limits: SyncLimits
        /// Most sessions at once; more peers are refused with a message until one ends.
        public var maxConnections: Int
        /// If set, also sync with every partner whose card has an address at this interval.
        public var syncEvery: Duration?
        /// Receives every event (the server itself never prints).
        public var onEvent: (@Sendable (Event) -> Void)?
        /// Called with every batch of envelopes received, before it is imported (for audits).
        public var received: (@Sendable (CompanyID, [[UInt8]]) -> Void)?

        /// Creates options.
        public init(
            limits: SyncLimits = SyncLimits(),
            maxConnections: Int = 64,
            syncEvery: Duration? = nil,
            onEvent: (@Sendable (Event) -> Void)? = nil,
            received: (@Sendable (CompanyID, [[UInt8]]) -> Void)? = nil
        ) {
            self.limits = limits
            self.maxConnections = maxConnections
            self.syncEvery = syncEvery
            self.onEvent = onEvent
            self.received = received
        }
    }

    /// The node served.
    public let node: Node
    private let options: Options
    private let listener: TCPSyncServer

    /// Prepares a server for `node` on `address` (`HOST:PORT`; port 0 picks a free port). Nothing is bound
    /// until ``run()``.
    /// - Throws: `.invalidArgument` if the address is not `HOST:PORT`.
    public init(node: Node, listeningOn address: String, options: Options = Options()) throws(EntenteError) {
        let parsed: PeerAddress
        do { parsed = try PeerAddress(parsing: address) } catch {
            throw EntenteError(.invalidArgument, error.message, cause: error)
        }
        self.node = node
        self.options = options
        let emit = options.onEvent ?? { _ in }
        let limits = options.limits
        let received = options.received
        listener = TCPSyncServer(
            address: parsed,
            maxConnections: options.maxConnections,
            handler: { incoming in
                await Self.serve(incoming, node: node, limits: limits, received: received, emit: emit)
            },
            onRefused: { remote in emit(.busy(remote: remote)) }
        )
    }

    /// Binds and serves until ``shutdown()`` is called or the task is cancelled.
    /// - Throws: `EntenteError` `.notFound` if the address cannot be bound (in use, not local).
    public func run() async throws(EntenteError) {
        let listener = self.listener
        let emit = options.onEvent ?? { _ in }
        let syncEvery = options.syncEvery
        let limits = options.limits
        let node = self.node
        enum Child: Sendable {
            case listener(SyncError?)
            case helper
        }
        let failure: SyncError? = await withTaskGroup(of: Child.self) { group in
            group.addTask {
                do throws(SyncError) {
                    try await listener.run()
                    return .listener(nil)
                } catch {
                    return .listener(error)
                }
            }
            group.addTask {
                if let address = try? await listener.boundAddress() { emit(.listening(address: address.description)) }
                return .helper
            }
            if let syncEvery {
                group.addTask {
                    await Self.pullPeriodically(node: node, every: syncEvery, limits: limits, emit: emit)
                    return .helper
                }
            }
            while let child = await group.next() {
                if case .listener(let error) = child {
                    group.cancelAll()
                    return error
                }
            }
            return nil
        }
        if let failure { throw EntenteError(syncError: failure, context: "cannot serve") }
    }

    /// The address the server listens on (`HOST:PORT`), once it is bound; waits for ``run()`` to bind.
    /// - Throws: if binding failed or the server was shut down first.
    public func address() async throws(EntenteError) -> String {
        do { return try await listener.boundAddress().description } catch let error as SyncError {
            throw EntenteError(syncError: error, context: "the server is not listening")
        } catch {
            throw EntenteError(.notFound, "the server is not listening: \(error)")
        }
    }

    /// Stops accepting partners and closes open sessions (what they committed stays); ``run()`` returns.
    public func shutdown() {
        listener.shutdown()
    }

    private static func serve(
        _ incoming: IncomingConnection,
        node: Node,
        limits: SyncLimits,
        received: (@Sendable (CompanyID, [[UInt8]]) -> Void)?,
        emit: @escaping @Sendable (Event) -> Void
    ) async {
        let remote = incoming.remote
        emit(.accepted(remote: remote))
        let configuration: SyncSession.Configuration
        let names: [CompanyID: String]
        do {
            configuration = try await node.syncConfiguration(limits: limits)
            names = Dictionary(
                try await node.partners(includingSelf: true).map {
                    ($0.company, $0.isSelf ? "\($0.name) (another replica)" : $0.name)
                },
                uniquingKeysWith: { first, _ in first }
            )
        } catch {
            emit(.failed(remote: remote, partner: nil, error))
            await incoming.refuse("the node cannot serve right now: \(error.message)")
            return
        }
        let name: @Sendable (CompanyID) -> String = { names[$0] ?? "company \($0.short)" }
        let peer = Mutex<String?>(nil)
        let observer = SyncObserver(
            progress: { progress in emit(.progress(remote: remote, partner: name(progress.peer), progress)) },
            received: received,
            authenticated: { company in
                peer.withLock { $0 = name(company) }
                emit(.authenticated(remote: remote, partner: name(company)))
            }
        )
        let session = SyncSession(role: .server, configuration: configuration)
        switch await incoming.run(session, store: NodeSyncStore(node: node), limits: limits, observer: observer) {
        case .success(let report):
            emit(.synced(remote: remote, partner: name(report.peer), report))
        case .failure(let error):
            emit(.failed(remote: remote, partner: peer.withLock { $0 }, EntenteError(syncError: error, context: nil)))
        }
    }

    private static func pullPeriodically(
        node: Node,
        every interval: Duration,
        limits: SyncLimits,
        emit: @escaping @Sendable (Event) -> Void
    ) async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            guard let partners = try? await node.partners() else { continue }
            for partner in partners where partner.address != nil {
                if Task.isCancelled { return }
                do {
                    let report = try await node.sync(with: partner.company, options: Node.SyncOptions(limits: limits))
                    emit(.pulled(partner: partner.name, report))
                } catch {
                    emit(.pullFailed(partner: partner.name, error))
                }
            }
        }
    }
}

/// Runs a ``SyncServer`` for `node` on `address` while `body` runs, passing it the bound address
/// (`HOST:PORT`), then shuts it down.
///
/// ```swift
/// try await withSyncServer(node: initech, listeningOn: "127.0.0.1:0") { address in
///     try await globex.sync(with: initech.company, address: address)
/// }
/// ```
/// - Throws: what `body` throws, or `EntenteError` if the server cannot listen.
public func withSyncServer<Value: Sendable>(
    node: Node,
    listeningOn address: String,
    options: SyncServer.Options = SyncServer.Options(),
    _ body: (String) async throws -> Value
) async throws -> Value {
    let server = try SyncServer(node: node, listeningOn: address, options: options)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.run() }
        do {
            let value = try await body(try await server.address())
            server.shutdown()
            try await group.waitForAll()
            return value
        } catch {
            server.shutdown()
            // A failure to listen explains a failure to get the address better than the latter does.
            try await group.waitForAll()
            throw error
        }
    }
}
