import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A network address: a host name or IP address and a TCP port.
public struct PeerAddress: Hashable, Sendable, CustomStringConvertible {
    /// The host name or IP address (without brackets).
    public let host: String
    /// The TCP port (0 when listening means "any free port").
    public let port: Int

    /// Creates an address.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`, `[IPv6]:PORT` or `IPv6%zone` forms with a port.
    /// - Throws: ``SyncError`` `.invalidAddress` naming the problem.
    public init(parsing text: String) throws(SyncError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var host: Substring
        let portText: Substring
        if trimmed.hasPrefix("["), let close = trimmed.firstIndex(of: "]") {
            host = trimmed[trimmed.index(after: trimmed.startIndex)..<close]
            let rest = trimmed[trimmed.index(after: close)...]
            guard rest.hasPrefix(":") else {
                throw SyncError(.invalidAddress, "address '\(text)' has no port; write [HOST]:PORT")
            }
            portText = rest.dropFirst()
        } else {
            guard let colon = trimmed.lastIndex(of: ":") else {
                throw SyncError(
                    .invalidAddress,
                    "address '\(text)' has no port; write HOST:PORT, for example 127.0.0.1:7400"
                )
            }
            host = trimmed[..<colon]
            portText = trimmed[trimmed.index(after: colon)...]
            guard !host.contains(":") else {
                throw SyncError(.invalidAddress, "write an IPv6 address in brackets: [\(host)]:\(portText)")
            }
        }
        host = host.drop(while: { $0 == " " })
        guard !host.isEmpty, host.utf8.count <= 253, host.allSatisfy({ !$0.isWhitespace && $0 != "/" }) else {
            throw SyncError(.invalidAddress, "address '\(text)' has no valid host")
        }
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw SyncError(.invalidAddress, "address '\(text)' has no valid port (0 to 65535)")
        }
        self.init(host: String(host), port: port)
    }

    /// `HOST:PORT` (IPv6 hosts in brackets).
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Sync sessions over TCP (SwiftNIO): dialling a partner.
package enum TCPTransport {
    /// Connects to `address`, runs `session` over the connection to its end, and closes it.
    package static func sync(
        to address: PeerAddress,
        session: SyncSession,
        store: any SyncStore,
        limits: SyncLimits,
        observer: SyncObserver = SyncObserver()
    ) async -> Result<SyncReport, SyncError> {
        let connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            connection = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(TimeAmount(limits.handshakeTimeout))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: address.host, port: address.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            return .failure(SyncError(.connectionFailed, "cannot connect to \(address): \(describe(error))"))
        }
        return await run(connection, session: session, store: store, limits: limits, observer: observer)
    }

    /// Runs `session` over an open connection, then closes it.
    static func run(
        _ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>,
        session: SyncSession,
        store: any SyncStore,
        limits: SyncLimits,
        observer: SyncObserver
    ) async -> Result<SyncReport, SyncError> {
        let channel = connection.channel
        let writer = SyncWriter(
            pieceSize: 64 * 1024,
            write: { bytes in try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get() },
            close: { channel.close(promise: nil) }
        )
        do {
            return try await connection.executeThenClose { inbound, _ in
                await SyncDriver.run(
                    session,
                    inbound: inbound.map { buffer in Array(buffer: buffer) },
                    writer: writer,
                    store: store,
                    limits: limits,
                    observer: observer
                )
            }
        } catch {
            return .failure(SyncError(.connectionFailed, "the connection failed: \(describe(error))"))
        }
    }

    /// A short, human description of a connection error.
    static func describe(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError {
            if let failure = error.connectionErrors.first { return describe(failure.error) }
            if let dns = error.dnsAError ?? error.dnsAAAAError { return "cannot resolve host '\(error.host)': \(dns)" }
            return "no address found for host '\(error.host)'"
        }
        if let error = error as? IOError {
            switch error.errnoCode {
            case ECONNREFUSED: return "connection refused (is `entente serve` running there?)"
            case EADDRINUSE: return "the address is already in use"
            case EADDRNOTAVAIL: return "the address is not available on this machine"
            case EACCES: return "permission denied"
            default: return String(cString: strerror(error.errnoCode))
            }
        }
        if let error = error as? ChannelError {
            switch error {
            case .connectTimeout: return "timed out"
            case .ioOnClosedChannel, .alreadyClosed, .eof: return "the connection was closed"
            default: return "\(error)"
            }
        }
        return "\(error)"
    }
}

/// An accepted TCP connection, handed to a ``TCPSyncServer`` handler.
package struct IncomingConnection: Sendable {
    /// The peer's address, for logs.
    package let remote: String
    let connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>

    /// Runs `session` (a server session) over the connection, then closes it.
    package func run(
        _ session: SyncSession,
        store: any SyncStore,
        limits: SyncLimits,
        observer: SyncObserver
    ) async -> Result<SyncReport, SyncError> {
        await TCPTransport.run(connection, session: session, store: store, limits: limits, observer: observer)
    }

    /// Refuses the connection with a reason the client can print, then closes it.
    ///
    /// The client's hello is read and dropped first (for at most two seconds, until the client closes):
    /// closing a socket with unread input resets the connection, which could destroy the refusal before the
    /// client reads it.
    package func refuse(_ message: String) async {
        let frame = FrameDecoder.frame(Refusal(reason: .busy, message: message).encoded())
        let channel = connection.channel
        let deadline = channel.eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
        defer { deadline.cancel() }
        _ = try? await connection.executeThenClose { inbound, _ in
            _ = try? await channel.writeAndFlush(ByteBuffer(bytes: frame)).get()
            try? await channel.close(mode: .output).get()
            do { for try await _ in inbound {} } catch {}
        }
    }
}

/// A TCP listener that accepts partners and runs a handler per connection, concurrently; one slow peer never
/// holds up another. At most `maxConnections` run at once; more are refused with a clear message.
package final class TCPSyncServer: Sendable {
    private enum BindState {
        case pending([CheckedContinuation<PeerAddress, any Error>])
        case bound(PeerAddress, any Channel)
        case failed(SyncError)
        case shutDown
    }

    private let address: PeerAddress
    private let maxConnections: Int
    private let handler: @Sendable (IncomingConnection) async -> Void
    private let onRefused: @Sendable (String) -> Void
    private let bindState = Mutex<BindState>(.pending([]))
    private let active = Mutex<(next: Int, channels: [Int: any Channel])>((0, [:]))

    /// Creates a server; nothing happens until ``run()``.
    package init(
        address: PeerAddress,
        maxConnections: Int,
        handler: @escaping @Sendable (IncomingConnection) async -> Void,
        onRefused: @escaping @Sendable (String) -> Void
    ) {
        self.address = address
        self.maxConnections = max(1, maxConnections)
        self.handler = handler
        self.onRefused = onRefused
    }

    /// Binds, then accepts connections until ``shutdown()`` or cancellation.
    package func run() async throws(SyncError) {
        let serverChannel: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
        do {
            serverChannel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .bind(host: address.host, port: address.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            let failure = SyncError(.connectionFailed, "cannot listen on \(address): \(TCPTransport.describe(error))")
            resolve(.failed(failure))
            throw failure
        }
        let bound = PeerAddress(host: address.host, port: serverChannel.channel.localAddress?.port ?? address.port)
        guard resolve(.bound(bound, serverChannel.channel)) else {
            try? await serverChannel.channel.close().get()
            return
        }
        do {
            try await withTaskCancellationHandler {
                try await serverChannel.executeThenClose { inbound in
                    try await withThrowingDiscardingTaskGroup { group in
                        for try await connection in inbound {
                            let remote = connection.channel.remoteAddress.map(Self.describe) ?? "unknown peer"
                            let incoming = IncomingConnection(remote: remote, connection: connection)
                            guard let id = admit(connection.channel) else {
                                group.addTask {
                                    self.onRefused(remote)
                                    await incoming.refuse(
                                        "this node is busy (\(self.maxConnections) partners are syncing); try again shortly"
                                    )
                                }
                                continue
                            }
                            group.addTask {
                                await self.handler(incoming)
                                self.release(id)
                            }
                        }
                    }
                }
            } onCancel: {
                shutdown()
            }
        } catch {
            if bindState.withLock({ if case .shutDown = $0 { true } else { false } }) { return }
            throw SyncError(.connectionFailed, "the listener on \(bound) failed: \(TCPTransport.describe(error))")
        }
    }

    /// The address the server listens on, once bound (port 0 replaced by the chosen port).
    package func boundAddress() async throws -> PeerAddress {
        try await withCheckedThrowingContinuation { continuation in
            let outcome: Result<PeerAddress, SyncError>? = bindState.withLock { state in
                switch state {
                case .pending(var waiting):
                    waiting.append(continuation)
                    state = .pending(waiting)
                    return nil
                case .bound(let address, _): return .success(address)
                case .failed(let error): return .failure(error)
                case .shutDown: return .failure(SyncError(.closed, "the server was shut down"))
                }
            }
            if let outcome { continuation.resume(with: outcome) }
        }
    }

    /// Stops accepting and closes every open connection (their committed batches stay committed).
    package func shutdown() {
        let channel: (any Channel)? = bindState.withLock { state in
            switch state {
            case .bound(_, let channel):
                state = .shutDown
                return channel
            case .pending(let waiting):
                state = .shutDown
                for continuation in waiting {
                    continuation.resume(throwing: SyncError(.closed, "the server was shut down"))
                }
                return nil
            case .failed, .shutDown:
                return nil
            }
        }
        channel?.close(promise: nil)
        for open in active.withLock({ Array($0.channels.values) }) { open.close(promise: nil) }
    }

    /// Moves out of `.pending`, waking waiters; false if the server was shut down meanwhile.
    @discardableResult
    private func resolve(_ next: BindState) -> Bool {
        let (waiting, accepted): ([CheckedContinuation<PeerAddress, any Error>], Bool) = bindState.withLock { state in
            guard case .pending(let waiting) = state else { return ([], false) }
            state = next
            return (waiting, true)
        }
        for continuation in waiting {
            switch next {
            case .bound(let address, _): continuation.resume(returning: address)
            case .failed(let error): continuation.resume(throwing: error)
            default: continuation.resume(throwing: SyncError(.closed, "the server was shut down"))
            }
        }
        return accepted
    }

    private func admit(_ channel: any Channel) -> Int? {
        active.withLock { active in
            guard active.channels.count < maxConnections else { return nil }
            let id = active.next
            active.next += 1
            active.channels[id] = channel
            return id
        }
    }

    private func release(_ id: Int) {
        _ = active.withLock { $0.channels.removeValue(forKey: id) }
    }

    private static func describe(_ address: SocketAddress) -> String {
        if let ip = address.ipAddress, let port = address.port {
            return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
        }
        return "\(address)"
    }
}
