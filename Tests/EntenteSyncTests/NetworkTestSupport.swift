import EntenteCore
import EntenteCrypto
import EntenteWire
import Synchronization
import Testing

@testable import EntenteSync

/// A company with one replica, for protocol tests.
struct Identity {
    let companyKey: SigningKeyPair
    let credentials: ReplicaCredentials
    var company: CompanyID { credentials.company }
    var replica: ReplicaID { credentials.replica }

    init() {
        companyKey = SigningKeyPair.generate()
        let replicaKey = SigningKeyPair.generate()
        credentials = ReplicaCredentials(
            key: replicaKey,
            certificate: ReplicaCertificate.issue(companyKey: companyKey, replicaKey: replicaKey.publicKey)
        )
    }

    init(companyKey: SigningKeyPair, credentials: ReplicaCredentials) {
        self.companyKey = companyKey
        self.credentials = credentials
    }

    /// A replica that claims `company` but whose certificate is signed by another key.
    static func forging(_ company: CompanyID) -> Identity {
        let forger = SigningKeyPair.generate()
        let replicaKey = SigningKeyPair.generate()
        let honest = ReplicaCertificate.issue(companyKey: forger, replicaKey: replicaKey.publicKey)
        let forged = ReplicaCertificate(company: company, replicaKey: replicaKey.publicKey, signature: honest.signature)
        return Identity(companyKey: forger, credentials: ReplicaCredentials(key: replicaKey, certificate: forged))
    }

    func configuration(trusting partners: [Identity], limits: SyncLimits = .forTests) -> SyncSession.Configuration {
        SyncSession.Configuration(
            credentials: credentials,
            partners: Dictionary(
                partners.map { ($0.company, $0.companyKey.publicKey) },
                uniquingKeysWith: { first, _ in first }
            ),
            limits: limits
        )
    }
}

extension SyncLimits {
    /// Timeouts that end a test that goes wrong (instead of hanging it), with room for a loaded machine.
    static var forTests: SyncLimits {
        var limits = SyncLimits()
        limits.handshakeTimeout = .seconds(60)
        limits.idleTimeout = .seconds(60)
        limits.writeTimeout = .seconds(60)
        return limits
    }
}

/// A store with the protocol's contract and nothing else: what it holds from a peer is a contiguous prefix
/// of what that peer has to send (one origin replica per company), like the real store's version vectors.
final class FakeStore: SyncStore, Sendable {
    private struct State {
        var mine: [[UInt8]]
        var received: [CompanyID: [[UInt8]]] = [:]
        var calls = 0
        var failImports = false
        var revocations: [ReplicaRevocation] = []
        var events: [String] = []
        // Paging: every page request (envelopes asked for, returned), what the peer acknowledged so far, the
        // most envelopes read but not yet acknowledged, and envelopes to log while the first page is read.
        var pages: [(asked: Int, returned: Int)] = []
        var loaded = 0
        var acknowledged = 0
        var maxOutstanding = 0
        var appendDuringSync: [[UInt8]] = []
    }

    let identity: Identity
    private let state: Mutex<State>

    init(_ identity: Identity, envelopes: [[UInt8]] = []) {
        self.identity = identity
        state = Mutex(State(mine: envelopes))
    }

    /// `count` distinct envelopes of `size` bytes, tagged with the owner's first id byte.
    static func envelopes(_ count: Int, size: Int = 40, tag: UInt8 = 0) -> [[UInt8]] {
        (0..<count).map { index in
            var bytes = [UInt8](repeating: tag, count: max(size, 8))
            withUnsafeBytes(of: UInt64(index).bigEndian) { raw in
                for (offset, byte) in raw.enumerated() { bytes[offset] = byte }
            }
            return bytes
        }
    }

    var calls: Int { state.withLock { $0.calls } }
    func received(from peer: Identity) -> [[UInt8]] { state.withLock { $0.received[peer.company] ?? [] } }
    func failImports(_ fail: Bool) { state.withLock { $0.failImports = fail } }

    func summary() async throws -> Summary {
        state.withLock { state in
            state.calls += 1
            // The "origin replica" of each peer is named after its company id.
            return Summary(
                company: identity.company,
                held: Dictionary(
                    uniqueKeysWithValues: state.received.map { (ReplicaID(raw: $0.key.raw), UInt64($0.value.count)) }
                )
            )
        }
    }

    /// Pages read so far: envelopes asked for and returned.
    var pages: [(asked: Int, returned: Int)] { state.withLock { $0.pages } }
    /// The most envelopes read from this store that the peer had not acknowledged yet.
    var maxOutstanding: Int { state.withLock { $0.maxOutstanding } }
    /// Counts the envelopes the peer acknowledged (feed it the sending progress).
    func acknowledged(_ progress: SyncProgress) {
        if progress.direction == .sending { state.withLock { $0.acknowledged = progress.envelopes } }
    }
    /// Logs `envelopes` while the next sync reads its first page (a node that writes during a sync).
    func appendDuringSync(_ envelopes: [[UInt8]]) { state.withLock { $0.appendDuringSync = envelopes } }

    func selectEnvelopes(for partner: CompanyID, since summary: Summary) async throws -> OutgoingSelection {
        state.withLock { state in
            state.calls += 1
            state.loaded = 0
            state.acknowledged = 0
            let held = Int(summary.held[ReplicaID(raw: identity.company.raw)] ?? 0)
            // The log position of `mine[i]` is i + 1.
            return OutgoingSelection(count: max(0, state.mine.count - held), through: Int64(state.mine.count))
        }
    }

    func envelopes(_ request: OutgoingPageRequest) async throws -> OutgoingPage {
        state.withLock { state in
            state.calls += 1
            state.mine += state.appendDuringSync
            state.appendDuringSync = []
            let held = Int(request.summary.held[ReplicaID(raw: identity.company.raw)] ?? 0)
            var page: [[UInt8]] = []
            var bytes = 0
            var position = max(Int(request.after), held)
            while position < min(Int(request.through), state.mine.count), page.count < request.maxEnvelopes {
                let envelope = state.mine[position]
                if !page.isEmpty, bytes + envelope.count > request.maxBytes { break }
                page.append(envelope)
                bytes += envelope.count
                position += 1
            }
            state.pages.append((request.maxEnvelopes, page.count))
            state.loaded += page.count
            state.maxOutstanding = max(state.maxOutstanding, state.loaded - state.acknowledged)
            return OutgoingPage(envelopes: page, last: Int64(position))
        }
    }

    /// Revocations this store passes on, and those it learnt (unchecked: the fake trusts its peers).
    var heldRevocations: [ReplicaRevocation] { state.withLock { $0.revocations } }
    /// What the store was asked to do, in order ("admit N", "import N").
    var events: [String] { state.withLock { $0.events } }
    func hold(_ revocations: [ReplicaRevocation]) { state.withLock { $0.revocations += revocations } }

    func revocations() async throws -> [ReplicaRevocation] {
        state.withLock { $0.revocations }
    }

    func admit(_ revocations: [ReplicaRevocation], from peer: CompanyID) async throws -> Int {
        state.withLock { state in
            let new = revocations.filter { !state.revocations.contains($0) }
            state.revocations += new
            state.events.append("admit \(revocations.count)")
            return new.count
        }
    }

    func importBatch(_ envelopes: [[UInt8]], from peer: CompanyID) async throws -> ImportOutcome {
        try state.withLock { state in
            state.calls += 1
            if state.failImports { throw SyncError(.storage, "disk full") }
            state.received[peer, default: []] += envelopes
            state.events.append("import \(envelopes.count)")
            return ImportOutcome(applied: envelopes.count)
        }
    }
}

/// Records every frame each side wrote.
final class Recorder: Sendable {
    private let frames = Mutex<[InMemorySide: [[UInt8]]]>([:])

    func record(_ side: InMemorySide, _ bytes: [UInt8]) {
        frames.withLock { $0[side, default: []].append(bytes) }
    }

    func frames(_ side: InMemorySide) -> [[UInt8]] { frames.withLock { $0[side] ?? [] } }
}

/// Runs a client and a server session over one in-memory link and returns both results.
func runPair(
    client: SyncSession.Configuration,
    dialing: CompanyID,
    clientStore: any SyncStore,
    server: SyncSession.Configuration,
    serverStore: any SyncStore,
    limits: SyncLimits = .forTests,
    tap: (@Sendable (InMemorySide, Int, [UInt8]) -> InMemoryDelivery)? = nil,
    clientObserver: SyncObserver = SyncObserver()
) async -> (client: Result<SyncReport, SyncError>, server: Result<SyncReport, SyncError>) {
    let (clientEnd, serverEnd) = InMemoryConnection.pair(tap: tap)
    async let served = serverEnd.run(
        SyncSession(role: .server, configuration: server),
        store: serverStore,
        limits: limits
    )
    let dialled = await clientEnd.run(
        SyncSession(role: .client(dialing: dialing), configuration: client),
        store: clientStore,
        limits: limits,
        observer: clientObserver
    )
    return (dialled, await served)
}

/// Runs `client` dialling `server` (each trusting the other) to completion; both reports, or a test failure.
func syncedPair(
    _ client: Identity,
    _ clientStore: FakeStore,
    _ server: Identity,
    _ serverStore: FakeStore
) async throws -> (client: SyncReport, server: SyncReport) {
    let result = await runPair(
        client: client.configuration(trusting: [server]),
        dialing: server.company,
        clientStore: clientStore,
        server: server.configuration(trusting: [client]),
        serverStore: serverStore
    )
    return (
        try #require(result.client.report, "client failed: \(String(describing: result.client.error))"),
        try #require(result.server.report, "server failed: \(String(describing: result.server.error))")
    )
}

extension Result where Failure == SyncError {
    var error: SyncError? {
        if case .failure(let error) = self { return error }
        return nil
    }

    var report: Success? {
        if case .success(let report) = self { return report }
        return nil
    }
}

/// Splits a frame into its length prefix and body, applies `change` to the body, and re-frames it.
func reframed(_ frame: [UInt8], _ change: (inout [UInt8]) -> Void) -> [UInt8] {
    var body = Array(frame.dropFirst(4))
    change(&body)
    return FrameDecoder.frame(body)
}

/// Feeds recorded frames to a fresh session and returns every action it took.
func replay(_ frames: [[UInt8]], into session: inout SyncSession) -> [SyncAction] {
    var actions = session.start()
    for frame in frames { actions += session.receive(frame) }
    return actions
}

func failure(in actions: [SyncAction]) -> SyncError? {
    for action in actions { if case .failed(let error) = action { return error } }
    return nil
}

func authenticated(in actions: [SyncAction]) -> Bool {
    actions.contains { if case .authenticated = $0 { true } else { false } }
}
