import ArgumentParser
import Dispatch
import Entente
import Foundation
import Synchronization

/// Timeouts and limits shared by `serve` and `sync`.
struct NetworkOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The handshake (and connecting) must complete within SECONDS.", valueName: "SECONDS"))
    var handshakeTimeout: Double = 10
    @Option(
        help: ArgumentHelp("Cut a peer that sends nothing for SECONDS while it is expected to.", valueName: "SECONDS")
    )
    var idleTimeout: Double = 60
    @Option(help: ArgumentHelp("Cut a peer that reads nothing for SECONDS (it stopped reading).", valueName: "SECONDS"))
    var writeTimeout: Double = 30
    @Option(help: ArgumentHelp("Cut a partner that sends more than N envelopes in one sync.", valueName: "N"))
    var maxEnvelopesPerSync: Int = 2_000_000
    @Option(help: ArgumentHelp("Cut a partner that sends more than MB megabytes of envelopes in one sync.", valueName: "MB"))
    var maxMegabytesPerSync: Int = 4096
    @Option(
        help: ArgumentHelp(
            "Save every batch of envelopes received into a bundle file in DIR (for audits; `entente bundle inspect` reads them).",
            valueName: "DIR"
        )
    )
    var record: String?

    func validate() throws {
        guard maxEnvelopesPerSync > 0, maxMegabytesPerSync > 0 else {
            throw ValidationError("--max-envelopes-per-sync and --max-megabytes-per-sync must be positive")
        }
        for (name, value) in [
            ("--handshake-timeout", handshakeTimeout), ("--idle-timeout", idleTimeout),
            ("--write-timeout", writeTimeout),
        ] {
            guard value > 0, value <= 86_400 else {
                throw ValidationError("\(name) must be between 0 and 86400 seconds")
            }
        }
    }

    var limits: SyncLimits {
        var limits = SyncLimits()
        limits.handshakeTimeout = .milliseconds(Int64(handshakeTimeout * 1000))
        limits.idleTimeout = .milliseconds(Int64(idleTimeout * 1000))
        limits.writeTimeout = .milliseconds(Int64(writeTimeout * 1000))
        limits.maxEnvelopesPerSync = maxEnvelopesPerSync
        limits.maxBytesPerSync = maxMegabytesPerSync << 20
        return limits
    }

    /// Writes each received batch as a bundle file under `record`, if set.
    func recorder() throws -> (@Sendable (CompanyID, [[UInt8]]) -> Void)? {
        guard let record else { return nil }
        let directory = URL(fileURLWithPath: record)
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw EntenteError(
                .invalidArgument,
                "cannot create the record directory \(record): \(error.localizedDescription)"
            )
        }
        return { company, envelopes in
            let name =
                "from-\(company.short)-\(UInt64(Date().timeIntervalSince1970 * 1000))-\(UUID().uuidString.prefix(8)).bundle"
            let path = directory.appendingPathComponent(name)
            do { try Data(Bundle(envelopes: envelopes).encoded()).write(to: path) } catch {
                Output.progress("warning: cannot record a batch to \(path.path): \(error.localizedDescription)")
            }
        }
    }
}

/// Human sizes for logs.
private func formatBytes(_ count: Int) -> String {
    switch count {
    case ..<1024: return "\(count) B"
    case ..<(1024 * 1024): return String(format: "%.1f KB", Double(count) / 1024)
    default: return String(format: "%.1f MB", Double(count) / 1024 / 1024)
    }
}

private func plural(_ count: Int, _ noun: String) -> String {
    "\(count) \(noun)\(count == 1 ? "" : "s")"
}

private func formatSeconds(_ duration: Duration) -> String {
    let (seconds, attoseconds) = duration.components
    return String(format: "%.2f s", Double(seconds) + Double(attoseconds) / 1e18)
}

private func milliseconds(_ duration: Duration) -> Int64 {
    let (seconds, attoseconds) = duration.components
    return seconds * 1000 + attoseconds / 1_000_000_000_000_000
}

/// One line per moving direction, at most every half second (and always the last), for long transfers.
final class SyncProgressPrinter: Sendable {
    private let last = Mutex<[String: ContinuousClock.Instant]>([:])

    func report(_ progress: SyncProgress, partner: String, key: String = "") {
        // Only transfers of more than one batch are long enough to be worth a progress line.
        guard progress.total > SyncLimits().maxEnvelopesPerBatch else { return }
        let direction = progress.direction == .sending ? "sent" : "received"
        let id = key + direction
        let now = ContinuousClock.now
        let due = last.withLock { last in
            let due = progress.envelopes >= progress.total || last[id].map { now - $0 >= .milliseconds(500) } ?? true
            if due { last[id] = now }
            return due
        }
        guard due else { return }
        Output.progress(
            "\(partner): \(direction) \(progress.envelopes) of \(progress.total) envelopes (\(formatBytes(progress.bytes)))"
        )
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run this node on the network: accept partners and sync with each (many at once).",
        discussion: """
            Listens on HOST:PORT (default: the address on this node's card; port 0 picks a free port and the \
            log says which). Every connection is mutually authenticated: only pinned partners get in, and each \
            proves it holds its company's and replica's keys. A peer that stalls, goes silent, stops reading or \
            exceeds a limit is cut off; the others are not held up. With --sync-every, the node also pulls from \
            every partner whose card has an address. Logs go to stderr, one line per event. Stop with Ctrl-C; \
            every batch already received is committed.
            """
    )
    @OptionGroup var node: NodeOptions
    @Option(help: ArgumentHelp("The address to listen on (default: the card's address).", valueName: "HOST:PORT"))
    var listen: String?
    @Option(help: ArgumentHelp("Also sync with every partner that has an address every SECONDS.", valueName: "SECONDS"))
    var syncEvery: Double?
    @Option(help: ArgumentHelp("Most partners syncing at once; more are told to retry.", valueName: "N"))
    var maxConnections = 64
    @OptionGroup var network: NetworkOptions

    func validate() throws {
        if let syncEvery, !(syncEvery >= 0.1 && syncEvery <= 86_400 * 7) {
            throw ValidationError("--sync-every must be between 0.1 and 604800 seconds")
        }
        guard (1...10_000).contains(maxConnections) else {
            throw ValidationError("--max-connections must be between 1 and 10000")
        }
    }

    func run() async throws {
        try await guarded {
            let opened = try node.open()
            guard let address = listen ?? opened.card.address else {
                throw EntenteError(
                    .invalidArgument,
                    "this node's card has no address; give one with --listen HOST:PORT (for example --listen 0.0.0.0:7400)"
                )
            }
            let name = opened.card.name
            let progress = SyncProgressPrinter()
            let options = SyncServer.Options(
                limits: network.limits,
                maxConnections: maxConnections,
                syncEvery: syncEvery.map { .milliseconds(Int64($0 * 1000)) },
                onEvent: { event in Self.log(event, progress: progress, name: name) },
                received: try network.recorder()
            )
            let server = try SyncServer(node: opened, listeningOn: address, options: options)
            let signals = Self.stopOnSignals { server.shutdown() }
            defer { for source in signals { source.cancel() } }
            try await server.run()
            Output.progress("entente serve: stopped")
        }
    }

    /// Installs SIGINT/SIGTERM handlers that call `stop` (the default action would kill the process).
    static func stopOnSignals(_ stop: @escaping @Sendable () -> Void) -> [any DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                Output.progress("entente serve: stopping (signal \(number))")
                stop()
            }
            source.resume()
            return source
        }
    }

    static func log(_ event: SyncServer.Event, progress: SyncProgressPrinter, name: String) {
        let line: String
        switch event {
        case .listening(let address):
            line = "\(name) listening on \(address)"
        case .accepted(let remote):
            line = "\(remote): connected"
        case .authenticated(let remote, let partner):
            line = "\(remote): authenticated as \(partner)"
        case .progress(let remote, let partner, let value):
            progress.report(value, partner: "\(remote) \(partner)", key: remote)
            return
        case .synced(let remote, let partner, let report):
            line =
                "\(remote): synced with \(partner): sent \(report.sent), received \(report.received) (\(report.applied) applied, \(report.duplicates) already held, \(report.refused) refused\(report.revocationsLearnt > 0 ? ", \(report.revocationsLearnt) revocations learnt" : "")) in \(formatSeconds(report.duration))"
                + report.refusedReasons.map { "\n  refused: \($0)" }.joined()
        case .failed(let remote, let partner, let error):
            line =
                "\(remote): \(partner.map { "sync with \($0)" } ?? "handshake") failed, connection closed: \(error.message)"
        case .busy(let remote):
            line = "\(remote): refused: too many partners are syncing"
        case .pulled(let partner, let report):
            line =
                "pulled from \(partner): sent \(report.sent), received \(report.received) (\(report.applied) applied)"
        case .pullFailed(let partner, let error):
            line = "pull from \(partner) failed: \(error.message)"
        }
        Output.progress("entente serve: " + line)
    }
}

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Sync with a partner over the network, both ways, once; print what moved.",
        discussion: """
            Dials the partner's node (the address on its card, or --address), proves who this node is, checks \
            that the partner is who it claims, then each side sends what the other is entitled to and lacks, \
            relayed envelopes included, in batches the receiver commits one by one: a sync cut off midway \
            resumes where it stopped. Progress of long transfers goes to stderr. With --all, syncs with every \
            partner whose card has an address and fails (exit 1) if any sync failed.
            """
    )
    @OptionGroup var node: NodeOptions
    @Argument(help: "The partner's name or company id.") var partner: String?
    @Option(help: ArgumentHelp("Dial this address instead of the one on the partner's card.", valueName: "HOST:PORT"))
    var address: String?
    @Flag(help: "Sync with every partner whose card has an address.") var all = false
    @Flag(help: "Print no progress lines.") var quiet = false
    @OptionGroup var network: NetworkOptions
    @Flag(help: "Print the result as JSON.") var json = false

    func validate() throws {
        if all, partner != nil { throw ValidationError("give a partner or --all, not both") }
        if !all, partner == nil { throw ValidationError("give the partner to sync with, or --all") }
        if all, address != nil {
            throw ValidationError("--address applies to one partner; it cannot be used with --all")
        }
    }

    func run() async throws {
        try await guarded { try await perform() }
    }

    private func perform() async throws {
        let opened = try node.open()
        let targets: [Partner]
        if let partner {
            targets = [try await opened.partner(named: partner)]
        } else {
            targets = try await opened.partners().filter { $0.address != nil }
            if targets.isEmpty {
                throw EntenteError(
                    .notFound,
                    "no partner card has an address; sync with one partner using --address HOST:PORT"
                )
            }
        }
        let printer = SyncProgressPrinter()
        let recorder = try network.recorder()
        var results: [JSON] = []
        var failures = 0
        for target in targets {
            let dialled = address ?? target.address ?? "-"
            switch await sync(opened, with: target, printer: printer, recorder: recorder) {
            case .success(let report):
                results.append(Self.json(report, partner: target, address: dialled))
                if !json { Self.print(report, partner: target, address: dialled) }
                for reason in report.refusedReasons {
                    Output.progress("warning: refused from \(target.name): \(reason)")
                }
            case .failure(let error):
                if targets.count == 1 { throw error }
                failures += 1
                Output.error(error.message)
                results.append(
                    JSON.object([
                        ("partner", .string(target.name)), ("address", .string(dialled)),
                        ("error", .string(error.message)),
                    ])
                )
            }
        }
        if json, let first = results.first { Output.print((all ? JSON.array(results) : first).rendered()) }
        if failures > 0 { throw ExitCode(1) }
    }

    private func sync(
        _ opened: Node,
        with target: Partner,
        printer: SyncProgressPrinter,
        recorder: (@Sendable (CompanyID, [[UInt8]]) -> Void)?
    ) async -> Result<SyncReport, EntenteError> {
        let name = target.name
        var options = Node.SyncOptions(limits: network.limits, received: recorder)
        if !quiet { options.progress = { progress in printer.report(progress, partner: name) } }
        do throws(EntenteError) {
            return .success(try await opened.sync(with: target.company, address: address, options: options))
        } catch {
            return .failure(error)
        }
    }

    static func print(_ report: SyncReport, partner: Partner, address: String) {
        var line = "Synced with \(partner.name) (\(address)) in \(formatSeconds(report.duration)): "
        line += "sent \(plural(report.sent, "envelope")) (\(formatBytes(report.sentEnvelopeBytes))), "
        line += "received \(report.received) (\(formatBytes(report.receivedEnvelopeBytes))): "
        line += "\(report.applied) applied, \(report.duplicates) already held, \(report.waiting) waiting"
        if report.refused > 0 { line += ", \(report.refused) refused" }
        if report.revocationsLearnt > 0 {
            line += "; learnt \(plural(report.revocationsLearnt, "replica revocation"))"
        }
        line += "; \(formatBytes(report.bytesSent + report.bytesReceived)) on the wire"
        Output.print(line)
    }

    static func json(_ report: SyncReport, partner: Partner, address: String) -> JSON {
        JSON.object([
            ("partner", .string(partner.name)), ("company_id", .string(partner.company.hex)),
            ("address", .string(address)),
            ("sent", .number(Int64(report.sent))), ("sent_bytes", .number(Int64(report.sentEnvelopeBytes))),
            ("received", .number(Int64(report.received))),
            ("received_bytes", .number(Int64(report.receivedEnvelopeBytes))),
            ("applied", .number(Int64(report.applied))), ("duplicates", .number(Int64(report.duplicates))),
            ("waiting", .number(Int64(report.waiting))), ("operations", .number(Int64(report.operations))),
            ("refused", .number(Int64(report.refused))),
            ("refused_reasons", .array(report.refusedReasons.map(JSON.string))),
            ("peer_applied", .number(Int64(report.peerApplied))),
            ("peer_duplicates", .number(Int64(report.peerDuplicates))),
            ("peer_refused", .number(Int64(report.peerRefused))),
            ("revocations_learnt", .number(Int64(report.revocationsLearnt))),
            ("revocations_sent", .number(Int64(report.revocationsSent))),
            ("wire_bytes_sent", .number(Int64(report.bytesSent))),
            ("wire_bytes_received", .number(Int64(report.bytesReceived))),
            ("milliseconds", .number(milliseconds(report.duration))),
        ])
    }
}
