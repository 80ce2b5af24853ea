import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Blocking loopback sockets for tests that play a misbehaving peer or sit in the middle of a connection.
public enum TestSocket {
    /// A socket call failed.
    public struct Failure: Error, CustomStringConvertible {
        /// What failed.
        public let description: String
        /// Creates a failure.
        public init(description: String) { self.description = description }
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    #if canImport(Glibc)
    private static let streamType = Int32(SOCK_STREAM.rawValue)
    private static let noSignal = Int32(MSG_NOSIGNAL)
    #else
    private static let streamType = SOCK_STREAM
    private static let noSignal: Int32 = 0
    #endif

    /// A listening socket on 127.0.0.1 and an ephemeral port.
    public static func listenOnLoopback() throws -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, streamType, 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed") }
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            close(fd)
            throw Failure(description: "bind/listen failed")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    /// Connects to 127.0.0.1:`port`; `receiveBuffer` shrinks the receive buffer first (a slow reader).
    public static func connectToLoopback(port: UInt16, receiveBuffer: Int32? = nil) throws -> Int32 {
        let fd = socket(AF_INET, streamType, 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed") }
        if var size = receiveBuffer {
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = loopback(port: port)
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(fd)
            throw Failure(description: "connect to port \(port) failed")
        }
        return fd
    }

    /// Waits up to `timeout` seconds for a connection.
    public static func acceptConnection(_ fd: Int32, timeout: Double) -> Int32? {
        guard wait(fd, timeout: timeout) else { return nil }
        let client = accept(fd, nil, nil)
        return client >= 0 ? client : nil
    }

    /// True if `fd` is readable within `timeout` seconds.
    public static func wait(_ fd: Int32, timeout: Double) -> Bool {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, Int32(timeout * 1000)) > 0
    }

    public static func sendAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, noSignal) }
            guard written > 0 else { throw Failure(description: "send failed") }
            offset += written
        }
    }

    /// Up to `max` bytes within `timeout` seconds: nil at the end of the stream (or on an error), [] on timeout.
    /// Blocks the calling thread: for the proxy's own threads only.
    public static func receiveSome(_ fd: Int32, max: Int = 65_536, timeout: Double) -> [UInt8]? {
        guard wait(fd, timeout: timeout) else { return [] }
        return readAvailable(fd, max: max)
    }

    private static func readAvailable(_ fd: Int32, max: Int) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: max)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, max, 0) }
        guard count > 0 else { return nil }
        return Array(buffer.prefix(count))
    }

    /// Like ``receiveSome(_:max:timeout:)`` but polls without blocking a thread of the cooperative pool (the
    /// server under test needs those threads).
    public static func receive(_ fd: Int32, max: Int = 65_536, timeout: Duration) async -> [UInt8]? {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if wait(fd, timeout: 0) { return readAvailable(fd, max: max) }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return []
    }

    /// Reads until the peer closes, at most `timeout` in all; true if it closed.
    public static func readUntilClosed(_ fd: Int32, timeout: Duration) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            guard await receive(fd, timeout: .milliseconds(100)) != nil else { return true }
        }
        return false
    }
}

/// A TCP proxy on 127.0.0.1 that forwards to an upstream port, records every byte in both directions, and
/// can change the client-to-server stream. Each connection is pumped by two threads; everything stops within
/// a fraction of a second of `stop()`.
public final class RecordingProxy: Sendable {
    private struct State {
        var upstream: UInt16?
        var clientToServer: [UInt8] = []
        var serverToClient: [UInt8] = []
        var stopped = false
    }

    /// The port the proxy listens on.
    public let port: UInt16
    private let listener: Int32
    private let state = Mutex(State())
    /// Called with each chunk going from client to server and its offset in that stream; returns what to forward.
    private let transform: (@Sendable (Int, [UInt8]) -> [UInt8])?

    /// Starts a proxy; `transform` may change the client-to-server stream.
    public init(upstream: UInt16? = nil, transform: (@Sendable (Int, [UInt8]) -> [UInt8])? = nil) throws {
        (listener, port) = try TestSocket.listenOnLoopback()
        self.transform = transform
        state.withLock { $0.upstream = upstream }
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// Sets where connections go.
    public func setUpstream(_ port: UInt16) { state.withLock { $0.upstream = port } }
    /// Every byte the clients sent.
    public var clientToServer: [UInt8] { state.withLock { $0.clientToServer } }
    /// Every byte the server sent.
    public var serverToClient: [UInt8] { state.withLock { $0.serverToClient } }
    private var stopped: Bool { state.withLock { $0.stopped } }

    /// Stops accepting and pumping.
    public func stop() {
        state.withLock { $0.stopped = true }
    }

    private func acceptLoop() {
        defer { close(listener) }
        while !stopped {
            guard let client = TestSocket.acceptConnection(listener, timeout: 0.1) else { continue }
            guard let upstream = state.withLock({ $0.upstream }),
                let server = try? TestSocket.connectToLoopback(port: upstream)
            else {
                close(client)
                continue
            }
            let done = Mutex(0)
            let finish: @Sendable () -> Void = {
                // Whichever direction ends first shuts both down; the second closes the sockets.
                shutdown(client, Int32(SHUT_RDWR))
                shutdown(server, Int32(SHUT_RDWR))
                if done.withLock({ value -> Bool in
                    value += 1
                    return value == 2
                }) {
                    close(client)
                    close(server)
                }
            }
            Thread.detachNewThread { [self] in
                pump(from: client, to: server, clientToServer: true)
                finish()
            }
            Thread.detachNewThread { [self] in
                pump(from: server, to: client, clientToServer: false)
                finish()
            }
        }
    }

    private func pump(from source: Int32, to destination: Int32, clientToServer: Bool) {
        var offset = 0
        while !stopped {
            guard let chunk = TestSocket.receiveSome(source, timeout: 0.1) else { return }
            if chunk.isEmpty { continue }
            let forwarded = clientToServer ? (transform?(offset, chunk) ?? chunk) : chunk
            offset += chunk.count
            state.withLock { state in
                if clientToServer { state.clientToServer += chunk } else { state.serverToClient += chunk }
            }
            guard (try? TestSocket.sendAll(destination, forwarded)) != nil else { return }
        }
    }
}

extension TestSocket {
    /// A loopback port nothing listens on (bound, then released).
    public static func unusedPort() throws -> UInt16 {
        let (fd, port) = try listenOnLoopback()
        close(fd)
        return port
    }
}

/// The built `entente` binary (or a sibling product such as `entente-bench`): `$ENTENTE_BIN`, else next to the
/// test bundle in the build products directory.
public enum BuiltBinary {
    /// The `entente` binary.
    public static let entente: URL = locate("entente")

    /// Finds a product built next to the test bundle.
    public static func locate(_ name: String) -> URL {
        if name == "entente", let path = ProcessInfo.processInfo.environment["ENTENTE_BIN"] {
            return URL(fileURLWithPath: path)
        }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
        }
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue
            {
                return candidate
            }
            directory = directory.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: name)
    }
}
