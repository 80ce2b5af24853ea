public import EntenteCore
public import EntenteWire
import Synchronization

/// What a sync session needs from the node it runs for. `Entente.Node` provides it; tests use fakes.
public protocol SyncStore: Sendable {
    /// What this company holds.
    func summary() async throws -> Summary
    /// Counts the envelopes `partner` is entitled to and `summary` does not cover (relayed ones too), and fixes
    /// where in the log they end, so that the pages read later return exactly these however many envelopes
    /// the node logs meanwhile.
    func selectEnvelopes(for partner: CompanyID, since summary: Summary) async throws -> OutgoingSelection
    /// The next page of a selection, in log order: as many envelopes as fit in the request's bounds (at least
    /// one while any is left).
    func envelopes(_ request: OutgoingPageRequest) async throws -> OutgoingPage
    /// Imports received envelopes and commits them before returning; envelopes it refuses are reported in
    /// the outcome (not thrown). Throws only if the store itself fails.
    func importBatch(_ envelopes: [[UInt8]], from peer: CompanyID) async throws -> ImportOutcome
    /// The replica revocations to pass on to the peer: this company's and those it learnt (every peer gets all).
    func revocations() async throws -> [ReplicaRevocation]
    /// Stores the revocations the peer sent whose signatures verify under their company's pinned key (others
    /// are ignored) and commits them, before any of the peer's batches is imported. Returns how many were new.
    func admit(_ revocations: [ReplicaRevocation], from peer: CompanyID) async throws -> Int
}

/// What a sender is to send in one session, counted when the peer's summary arrives
/// (``SyncStore/selectEnvelopes(for:since:)``). The session announces `count` in every batch and then reads the
/// envelopes page by page, so it never holds more than its window of batches and one page.
public struct OutgoingSelection: Hashable, Sendable {
    /// How many envelopes.
    public var count: Int
    /// The store's log position of the last one (an opaque bound to pass back in page requests).
    public var through: Int64

    /// Creates a selection.
    public init(count: Int, through: Int64) {
        self.count = count
        self.through = through
    }
}

/// A request for the next page of an ``OutgoingSelection``: the envelopes `partner` is entitled to and
/// `summary` does not cover, logged after `after` and up to `through`, as many as fit in `maxEnvelopes` and
/// `maxBytes` (at least one).
public struct OutgoingPageRequest: Hashable, Sendable {
    /// The recipient.
    public var partner: CompanyID
    /// What it holds.
    public var summary: Summary
    /// The log position to continue after (0 at first, then the previous page's `last`).
    public var after: Int64
    /// The selection's bound.
    public var through: Int64
    /// Most envelopes in the page.
    public var maxEnvelopes: Int
    /// Most envelope bytes in the page, unless its first envelope alone is larger.
    public var maxBytes: Int
}

/// A page of envelopes to send.
public struct OutgoingPage: Sendable {
    /// The envelopes, in log order.
    public var envelopes: [[UInt8]]
    /// The log position to continue after.
    public var last: Int64

    /// Creates a page.
    public init(envelopes: [[UInt8]], last: Int64) {
        self.envelopes = envelopes
        self.last = last
    }
}

/// Hooks a driver calls while a session runs (all optional).
public struct SyncObserver: Sendable {
    /// After every batch sent and acknowledged, or received and imported.
    public var progress: (@Sendable (SyncProgress) -> Void)?
    /// Every envelope batch received, before it is imported (for audits: `entente sync --record`).
    public var received: (@Sendable (CompanyID, [[UInt8]]) -> Void)?
    /// Once the peer proved its identity.
    public var authenticated: (@Sendable (CompanyID) -> Void)?

    /// Creates an observer.
    public init(
        progress: (@Sendable (SyncProgress) -> Void)? = nil,
        received: (@Sendable (CompanyID, [[UInt8]]) -> Void)? = nil,
        authenticated: (@Sendable (CompanyID) -> Void)? = nil
    ) {
        self.progress = progress
        self.received = received
        self.authenticated = authenticated
    }
}

/// The write side of a connection, as a driver uses it.
package struct SyncWriter: Sendable {
    /// Writes bytes; returns once the transport took them (for TCP: once the kernel did).
    package var write: @Sendable ([UInt8]) async throws -> Void
    /// Closes the connection in both directions; a pending read ends and a pending write fails.
    package var close: @Sendable () -> Void
    /// Frames larger than this are written in pieces of this size, so that the write timeout measures how
    /// long the peer reads nothing rather than how long a large frame takes; nil writes whole frames.
    package var pieceSize: Int?

    /// Wraps a transport's write and close.
    package init(
        pieceSize: Int? = nil,
        write: @escaping @Sendable ([UInt8]) async throws -> Void,
        close: @escaping @Sendable () -> Void
    ) {
        self.pieceSize = pieceSize
        self.write = write
        self.close = close
    }
}

/// Runs a ``SyncSession`` over a connection: reads bytes into it, writes the frames it returns from a
/// separate task (so a peer that does not read never stops this side from reading), performs its store
/// actions, and enforces the handshake, idle and write timeouts.
package enum SyncDriver {
    /// Runs `session` to its end and returns its report or error. The caller closes the connection after.
    package static func run<Inbound: AsyncSequence>(
        _ session: consuming SyncSession,
        inbound: Inbound,
        writer: SyncWriter,
        store: any SyncStore,
        limits: SyncLimits,
        observer: SyncObserver = SyncObserver()
    ) async -> Result<SyncReport, SyncError> where Inbound.Element == [UInt8] {
        let clock = ContinuousClock()
        let started = clock.now
        let monitor = SessionMonitor(started: started)
        let (outbound, continuation) = AsyncStream.makeStream(of: [UInt8].self)
        var session = session
        return await withTaskGroup(of: ChildTask.self) { group in
            group.addTask {
                for await frame in outbound {
                    let pieceSize = max(1, writer.pieceSize ?? frame.count)
                    var offset = 0
                    repeat {
                        let end = min(frame.count, offset + pieceSize)
                        monitor.beginWrite(at: clock.now)
                        do {
                            try await writer.write(
                                offset == 0 && end == frame.count ? frame : Array(frame[offset..<end])
                            )
                        } catch {
                            // Not a verdict yet: the peer may have explained itself (a refusal, an error) in
                            // what is still to be read, which the reader reports in preference.
                            monitor.writeFailed(
                                SyncError(.connectionFailed, "the connection broke while writing: \(error)")
                            )
                            writer.close()
                            return .writer
                        }
                        monitor.endWrite()
                        offset = end
                    } while offset < frame.count
                }
                return .writer
            }
            group.addTask {
                await watch(monitor, limits: limits, clock: clock, close: writer.close)
                return .watchdog
            }

            var result: Result<SyncReport, SyncError>?
            var pending = session.start()
            var iterator = inbound.makeAsyncIterator()
            reading: while true {
                while !pending.isEmpty {
                    let action = pending.removeFirst()
                    switch action {
                    case .send(let frame):
                        continuation.yield(frame)
                    case .authenticated(let peer, _):
                        monitor.authenticated()
                        observer.authenticated?(peer)
                        do {
                            pending += session.localSummary(
                                try await store.summary(),
                                revocations: try await store.revocations()
                            )
                        } catch {
                            pending += session.abort(SyncError(.storage, "cannot read this node's summary: \(error)"))
                        }
                    case .admitRevocations(let revocations):
                        guard let peer = session.peer else { break }
                        do { session.admitted(revocations: try await store.admit(revocations, from: peer)) } catch {
                            pending += session.abort(
                                SyncError(.storage, "cannot store the peer's revocations: \(error)")
                            )
                        }
                    case .selectEnvelopes(let peer, let summary):
                        do {
                            pending += session.selected(try await store.selectEnvelopes(for: peer, since: summary))
                        } catch {
                            pending += session.abort(
                                SyncError(.storage, "cannot count the envelopes to send: \(error)")
                            )
                        }
                    case .loadEnvelopes(let request):
                        do { pending += session.loaded(try await store.envelopes(request)) } catch {
                            pending += session.abort(SyncError(.storage, "cannot read the envelopes to send: \(error)"))
                        }
                    case .importBatch(let number, let envelopes):
                        guard let peer = session.peer else { break }
                        observer.received?(peer, envelopes)
                        do {
                            pending += session.imported(
                                batch: number,
                                outcome: try await store.importBatch(envelopes, from: peer)
                            )
                        } catch {
                            pending += session.abort(SyncError(.storage, "cannot import batch \(number): \(error)"))
                        }
                    case .progress(let progress):
                        observer.progress?(progress)
                    case .finished(let report):
                        result = .success(report)
                    case .failed(let error):
                        result = .failure(error)
                    }
                }
                if result != nil { break reading }
                if let cut = monitor.cutReason {
                    result = .failure(cut)
                    break reading
                }
                monitor.beginRead(at: clock.now)
                let bytes: [UInt8]?
                var readError: (any Error)?
                do { bytes = try await iterator.next() } catch {
                    bytes = nil
                    readError = error
                }
                monitor.endRead()
                if let cut = monitor.cutReason {
                    result = .failure(cut)
                    break reading
                }
                if let bytes {
                    pending = session.receive(bytes)
                } else if let readError {
                    pending = session.abort(SyncError(.connectionFailed, "the connection broke: \(readError)"))
                } else {
                    pending = session.receiveEndOfStream()
                }
            }

            // Let the writer flush what is queued (bounded by the write timeout, or a short grace after a
            // failure), then stop the watchdog.
            continuation.finish()
            let failed: Bool
            if case .success = result { failed = false } else { failed = true }
            monitor.draining(at: clock.now, failed: failed)
            while let child = await group.next() {
                if child == .writer { group.cancelAll() }
            }
            if case .failure(let error) = result, error.code == .closed, let failure = monitor.writeFailure {
                return .failure(failure)
            }
            switch result {
            case .success(var report):
                if let cut = monitor.cutReason, cut.code != .closed { return .failure(cut) }
                report.duration = clock.now - started
                return .success(report)
            case .failure(let error):
                return .failure(error)
            case nil:
                return .failure(monitor.cutReason ?? SyncError(.closed, "the session ended unexpectedly"))
            }
        }
    }

    private enum ChildTask: Sendable { case writer, watchdog }

    /// Cuts the connection when a deadline passes; returns when the session is over.
    private static func watch(
        _ monitor: SessionMonitor,
        limits: SyncLimits,
        clock: ContinuousClock,
        close: @Sendable () -> Void
    ) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: SessionMonitor.tick)
            if Task.isCancelled { return }
            if let reason = monitor.check(now: clock.now, limits: limits) {
                close()
                if reason.code == .closed { return }
            }
        }
    }
}

/// The shared view of a running session that its reader, writer and watchdog update.
final class SessionMonitor: Sendable {
    private struct State {
        var started: ContinuousClock.Instant
        var lastCheck: ContinuousClock.Instant
        var isAuthenticated = false
        var readingSince: ContinuousClock.Instant?
        var writingSince: ContinuousClock.Instant?
        var drainingSince: ContinuousClock.Instant?
        var drainGrace: Duration?
        var cutReason: SyncError?
        var writeFailure: SyncError?
    }

    private let state: Mutex<State>
    /// How often the watchdog checks.
    static let tick: Duration = .milliseconds(100)

    init(started: ContinuousClock.Instant) {
        state = Mutex(State(started: started, lastCheck: started))
    }

    var cutReason: SyncError? { state.withLock { $0.cutReason } }

    func authenticated() { state.withLock { $0.isAuthenticated = true } }
    func beginRead(at now: ContinuousClock.Instant) { state.withLock { $0.readingSince = now } }
    func endRead() { state.withLock { $0.readingSince = nil } }
    func beginWrite(at now: ContinuousClock.Instant) { state.withLock { $0.writingSince = now } }
    func endWrite() { state.withLock { $0.writingSince = nil } }

    /// Why writing failed, if it did.
    var writeFailure: SyncError? { state.withLock { $0.writeFailure } }

    func writeFailed(_ failure: SyncError) {
        state.withLock { if $0.writeFailure == nil { $0.writeFailure = failure } }
    }

    /// The reader is done: from now on only the writer's flush is waited for.
    func draining(at now: ContinuousClock.Instant, failed: Bool) {
        state.withLock {
            $0.drainingSince = now
            $0.drainGrace = failed ? .seconds(1) : nil
            $0.readingSince = nil
        }
    }

    /// Records and returns why the connection must be cut now, if it must.
    func check(now: ContinuousClock.Instant, limits: SyncLimits) -> SyncError? {
        state.withLock { state in
            if state.cutReason != nil { return nil }
            // Time this process did not run (the watchdog woke far later than it asked to: an overloaded
            // machine, a stopped process) is not the peer's fault: shift every deadline past it.
            let lost = now - state.lastCheck - Self.tick
            state.lastCheck = now
            if lost > .milliseconds(250) {
                state.started += lost
                state.readingSince = state.readingSince.map { $0 + lost }
                state.writingSince = state.writingSince.map { $0 + lost }
                state.drainingSince = state.drainingSince.map { $0 + lost }
            }
            var reason: SyncError?
            if let since = state.drainingSince, let grace = state.drainGrace, now - since > grace {
                reason = SyncError(.closed, "the session is over")
            } else if !state.isAuthenticated, state.drainingSince == nil, now - state.started > limits.handshakeTimeout
            {
                reason = SyncError(.timedOut, "the handshake did not complete within \(limits.handshakeTimeout)")
            } else if let since = state.writingSince, now - since > limits.writeTimeout {
                reason = SyncError(.timedOut, "the peer stopped reading: it took nothing for \(limits.writeTimeout)")
            } else if let since = state.readingSince, now - since > limits.idleTimeout {
                reason = SyncError(.timedOut, "the peer sent nothing for \(limits.idleTimeout)")
            }
            state.cutReason = reason
            return reason
        }
    }
}
