import Synchronization

/// What an ``InMemoryConnection`` tap does with one write.
public enum InMemoryDelivery: Sendable {
    /// Deliver these bytes (the original or a modified copy).
    case deliver([UInt8])
    /// Lose them.
    case drop
    /// Cut the connection instead (both ends see the end of the stream after what is already in flight).
    case cut
}

/// Which end of an in-memory link wrote something.
public enum InMemorySide: Hashable, Sendable {
    /// The end returned as `client` by ``InMemoryConnection/pair(tap:)``.
    case client
    /// The end returned as `server`.
    case server
}

/// One end of an in-memory, in-order byte link: the transport of tests and simulations. It runs the same
/// ``SyncSession`` and driver as TCP, and a tap sees (and may change, drop or cut) every write.
///
/// ```swift
/// let (client, server) = InMemoryConnection.pair()
/// async let served = server.run(SyncSession(role: .server, configuration: b), store: storeB)
/// let report = try await client.run(SyncSession(role: .client(dialing: bID), configuration: a), store: storeA).get()
/// ```
public struct InMemoryConnection: Sendable {
    private let link: InMemoryLink
    private let side: InMemorySide

    /// Two connected ends. `tap` sees every write with its side and its index on that side (from 0).
    public static func pair(
        tap: (@Sendable (InMemorySide, Int, [UInt8]) -> InMemoryDelivery)? = nil
    ) -> (client: InMemoryConnection, server: InMemoryConnection) {
        let link = InMemoryLink(tap: tap)
        return (InMemoryConnection(link: link, side: .client), InMemoryConnection(link: link, side: .server))
    }

    /// Writes bytes to the other end (never blocks).
    public func write(_ bytes: [UInt8]) {
        link.write(bytes, from: side)
    }

    /// Closes the link: both ends read what is in flight, then the end of the stream.
    public func close() {
        link.close()
    }

    /// What the other end writes, in order, until the link closes.
    public var incoming: AsyncStream<[UInt8]> {
        side == .client ? link.toClient.stream : link.toServer.stream
    }

    /// Runs `session` over this end to completion, then closes the link.
    public func run(
        _ session: consuming SyncSession,
        store: any SyncStore,
        limits: SyncLimits = SyncLimits(),
        observer: SyncObserver = SyncObserver()
    ) async -> Result<SyncReport, SyncError> {
        let writer = SyncWriter(write: { [self] bytes in write(bytes) }, close: { [self] in close() })
        let result = await SyncDriver.run(
            session,
            inbound: incoming,
            writer: writer,
            store: store,
            limits: limits,
            observer: observer
        )
        close()
        return result
    }
}

/// The shared state of two in-memory ends.
final class InMemoryLink: Sendable {
    let toClient: (stream: AsyncStream<[UInt8]>, continuation: AsyncStream<[UInt8]>.Continuation)
    let toServer: (stream: AsyncStream<[UInt8]>, continuation: AsyncStream<[UInt8]>.Continuation)
    private let tap: (@Sendable (InMemorySide, Int, [UInt8]) -> InMemoryDelivery)?
    private let counts = Mutex<[InMemorySide: Int]>([:])

    init(tap: (@Sendable (InMemorySide, Int, [UInt8]) -> InMemoryDelivery)?) {
        self.tap = tap
        toClient = AsyncStream.makeStream(of: [UInt8].self)
        toServer = AsyncStream.makeStream(of: [UInt8].self)
    }

    func write(_ bytes: [UInt8], from side: InMemorySide) {
        let index = counts.withLock { counts in
            defer { counts[side, default: 0] += 1 }
            return counts[side, default: 0]
        }
        switch tap?(side, index, bytes) ?? .deliver(bytes) {
        case .deliver(let delivered):
            (side == .client ? toServer : toClient).continuation.yield(delivered)
        case .drop:
            break
        case .cut:
            close()
        }
    }

    func close() {
        toClient.continuation.finish()
        toServer.continuation.finish()
    }
}
