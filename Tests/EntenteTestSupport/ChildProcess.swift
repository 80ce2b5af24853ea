import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A started child process whose exit and piped output are awaited without blocking a Swift concurrency thread.
///
/// Swift Testing runs tests on the cooperative pool, which has one thread per core. A test that blocks such a thread
/// on a child (`waitUntilExit`, `readDataToEndOfFile`) starves the in-process async tests running beside it. Here the
/// exit arrives through `terminationHandler`, and each `Pipe` set as the process's standard output or error is read
/// to its end on a dedicated thread, so awaiting the child suspends the task instead.
public final class ChildProcess: Sendable {
    /// How the process ended and what it wrote to its piped standard output and error.
    public struct Output: Sendable {
        /// The exit status, or the signal number if the process was killed.
        public let status: Int32
        /// Whether the process exited or was killed by a signal.
        public let reason: Process.TerminationReason
        /// Everything written to standard output (empty if it was not a `Pipe`).
        public let stdout: Data
        /// Everything written to standard error (empty if it was not a `Pipe`, or the same pipe as standard output).
        public let stderr: Data
    }

    private let process: Process
    private let exited = Latch<Void>()
    private let stdout: Latch<Data>?
    private let stderr: Latch<Data>?

    /// Starts `process` (which must not have a termination handler); `collectOutput` false leaves its pipes to
    /// the caller.
    public init(starting process: Process, collectOutput: Bool = true) throws {
        let exited = exited
        process.terminationHandler = { _ in exited.fulfil(()) }
        try process.run()
        self.process = process
        let outPipe = collectOutput ? process.standardOutput as? Pipe : nil
        var errPipe = collectOutput ? process.standardError as? Pipe : nil
        if let outPipe, errPipe === outPipe { errPipe = nil }
        stdout = outPipe.map { Self.drain($0.fileHandleForReading) }
        stderr = errPipe.map { Self.drain($0.fileHandleForReading) }
    }

    /// Starts `process` and waits for its exit and the end of its piped output.
    public static func run(_ process: Process) async throws -> Output {
        try await ChildProcess(starting: process).output()
    }

    /// Whether the process has not exited yet.
    public var isRunning: Bool { process.isRunning }

    /// Sends SIGTERM.
    public func terminate() { process.terminate() }

    /// Sends `signal` unless the process has exited.
    public func send(_ signal: Int32) {
        if process.isRunning { _ = kill(process.processIdentifier, signal) }
    }

    /// Asks the process to stop without waiting: SIGTERM now, SIGKILL if it still runs after `grace`.
    public func requestStop(grace: Duration = .seconds(5)) {
        guard process.isRunning else { return }
        process.terminate()
        Task { if await !self.exit(within: grace) { self.send(SIGKILL) } }
    }

    /// Stops the process like `requestStop(grace:)` and waits for it to exit.
    public func stop(grace: Duration = .seconds(5)) async {
        requestStop(grace: grace)
        await exit()
    }

    /// Waits for the process to exit, at most `timeout` if given; false if it still runs.
    @discardableResult
    public func exit(within timeout: Duration? = nil) async -> Bool {
        await exited.value(within: timeout) != nil
    }

    /// Waits for the process to exit and for the end of its piped output.
    public func output() async -> Output {
        await exit()
        let out = await stdout?.value(within: nil) ?? Data()
        let err = await stderr?.value(within: nil) ?? Data()
        return Output(status: process.terminationStatus, reason: process.terminationReason, stdout: out, stderr: err)
    }

    /// Reads `handle` to its end on a thread of its own.
    private static func drain(_ handle: FileHandle) -> Latch<Data> {
        let data = Latch<Data>()
        Thread { data.fulfil(handle.readDataToEndOfFile()) }.start()
        return data
    }
}

/// A value set once, awaited by any number of tasks, each with an optional timeout.
private final class Latch<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var nextWaiter = 0
        var waiters: [Int: CheckedContinuation<Value?, Never>] = [:]
    }

    private let state = Mutex(State())

    /// Sets the value and resumes every waiter with it.
    func fulfil(_ value: Value) {
        let waiters = state.withLock { state in
            state.value = value
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: value) }
    }

    /// The value, once set; nil if `timeout` passes first.
    func value(within timeout: Duration?) async -> Value? {
        await withCheckedContinuation { continuation in
            let waiter: Int? = state.withLock { state in
                if state.value != nil { return nil }
                defer { state.nextWaiter += 1 }
                state.waiters[state.nextWaiter] = continuation
                return state.nextWaiter
            }
            guard let waiter else {
                continuation.resume(returning: state.withLock { $0.value })
                return
            }
            guard let timeout else { return }
            let (seconds, attoseconds) = timeout.components
            DispatchQueue.global().asyncAfter(deadline: .now() + Double(seconds) + Double(attoseconds) / 1e18) {
                self.state.withLock { $0.waiters.removeValue(forKey: waiter) }?.resume(returning: nil)
            }
        }
    }
}
