import EntenteCore
import EntenteCrypto
import EntenteSync
import EntenteTestSupport
import EntenteWire
import Foundation
import Synchronization
import Testing

@testable import Entente

/// What a server reported, for assertions on its log.
final class EventLog: Sendable {
    private let lines = Mutex<[String]>([])

    func record(_ event: SyncServer.Event) {
        let line: String
        switch event {
        case .listening(let address): line = "listening \(address)"
        case .accepted(let remote): line = "accepted \(remote)"
        case .authenticated(_, let partner): line = "authenticated \(partner)"
        case .progress: return
        case .synced(_, let partner, let report):
            line = "synced \(partner) sent \(report.sent) received \(report.received)"
        case .failed(_, let partner, let error): line = "failed \(partner ?? "-"): \(error.message)"
        case .busy: line = "busy"
        case .pulled(let partner, _): line = "pulled \(partner)"
        case .pullFailed(let partner, let error): line = "pull failed \(partner): \(error.message)"
        }
        lines.withLock { $0.append(line) }
    }

    var all: [String] { lines.withLock { $0 } }

    /// Waits (at most `timeout`) until a line contains `text`.
    func waitFor(_ text: String, timeout: Duration = .seconds(120)) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if all.contains(where: { $0.contains(text) }) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }
}

/// Timeouts that end a test that goes wrong within its patience, yet leave room for a loaded machine (the
/// test runner may block cooperative threads for seconds while other suites wait for processes).
func testLimits(write: Duration = .seconds(60), idle: Duration = .seconds(60)) -> SyncLimits {
    var limits = SyncLimits()
    limits.handshakeTimeout = .seconds(60)
    limits.idleTimeout = idle
    limits.writeTimeout = write
    return limits
}

/// Plays the client side of the protocol by hand over a blocking socket: handshake, then this node's summary;
/// then it returns, and the caller decides what the socket does next (for example: never read again).
func handshakeAndSendSummary(fd: Int32, node: Node, dialing partner: CompanyID, limits: SyncLimits) async throws {
    var session = SyncSession(
        role: .client(dialing: partner),
        configuration: try await node.syncConfiguration(limits: limits)
    )
    var pending = session.start()
    for _ in 0..<100 {
        var summarySent = false
        while !pending.isEmpty {
            let action = pending.removeFirst()
            switch action {
            case .send(let bytes): try TestSocket.sendAll(fd, bytes)
            case .authenticated:
                pending += session.localSummary(try await node.summary())
                summarySent = true
            case .failed(let error): throw error
            default: break
            }
        }
        if summarySent { return }
        guard let bytes = await TestSocket.receive(fd, timeout: .seconds(120)), !bytes.isEmpty else {
            throw TestSocket.Failure(description: "the server closed or went silent during the handshake")
        }
        pending = session.receive(bytes)
    }
    throw TestSocket.Failure(description: "the handshake did not complete")
}

@Suite struct NetworkServerTests {
    func opportunity(_ node: Node, title: String, with partners: [Node]) async throws -> ObjectID {
        var changes = Changes()
        changes.joint = [FieldValue("title", title)]
        return try await node.create(type: "opportunity", changes: changes, with: partners.map(\.company))
    }

    @Test func twoNodesSyncOverTCPBothWays() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let (globex, initech) = (deal.globex, deal.initech)
        let fromGlobex = try await opportunity(globex, title: "Over TCP", with: [initech])
        let fromInitech = try await opportunity(initech, title: "And back", with: [globex])
        let log = EventLog()
        try await withSyncServer(
            node: initech,
            listeningOn: "127.0.0.1:0",
            options: SyncServer.Options(onEvent: log.record)
        ) { address in
            #expect(address.hasPrefix("127.0.0.1:") && !address.hasSuffix(":0"))
            let report = try await globex.sync(with: initech.company, address: address)
            #expect(report.sent >= 1 && report.received >= 1 && report.peer == initech.company && report.isClient)
            #expect(report.peerApplied == report.sent && report.applied == report.received)
            #expect(report.bytesSent > report.sentEnvelopeBytes && report.bytesReceived > report.receivedEnvelopeBytes)
            let again = try await globex.sync(with: initech.company, address: address)
            #expect(again.sent == 0 && again.received == 0)
        }
        #expect(try await initech.object(fromGlobex).joint("title")?.value == .string("Over TCP"))
        #expect(try await globex.object(fromInitech).joint("title")?.value == .string("And back"))
        #expect(log.all.contains { $0.hasPrefix("listening 127.0.0.1:") })
        #expect(
            log.all.contains("synced Globex sent 1 received 1") || log.all.contains { $0.hasPrefix("synced Globex") }
        )

        // Nothing listens any more: a clear error, not a hang.
        await #expect(throws: EntenteError.self) {
            try await globex.sync(with: initech.company, address: "127.0.0.1:1")
        }
        do throws(EntenteError) {
            _ = try await globex.sync(with: initech.company, address: "127.0.0.1:1")
        } catch {
            #expect(error.code == .network && error.message.contains("connection refused"), "\(error)")
        }
    }

    @Test func strangersImpostorsTamperedAndOversizedFramesAreRefusedAndTheServerKeepsServing() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let (globex, initech) = (deal.globex, deal.initech)
        let log = EventLog()
        let limits = testLimits()
        try await withSyncServer(
            node: initech,
            listeningOn: "127.0.0.1:0",
            options: SyncServer.Options(limits: limits, onEvent: log.record)
        ) { address in
            let port = try #require(UInt16(address.split(separator: ":").last ?? ""))
            var syncs = 0
            func serverStillServes() async throws {
                syncs += 1
                _ = try await opportunity(globex, title: "Still serving \(syncs)", with: [initech])
                let report = try await globex.sync(
                    with: initech.company,
                    address: address,
                    options: Node.SyncOptions(limits: limits)
                )
                #expect(report.sent >= 1)
            }

            // 1. An unknown company: it pinned Initech, but Initech never pinned it.
            let stranger = try Node.create(at: deal.root.appendingPathComponent("stranger"), companyName: "Stranger")
            try await stranger.addPartner(initech.card)
            do throws(EntenteError) {
                _ = try await stranger.sync(
                    with: initech.company,
                    address: address,
                    options: Node.SyncOptions(limits: limits)
                )
                Issue.record("a stranger got in")
            } catch {
                #expect(error.code == .rejected && error.message.contains("not a partner"), "\(error)")
            }
            #expect(await log.waitFor("not a partner"))
            try await serverStillServes()

            // 2. A wrong key: a replica claiming Globex with a certificate Globex's key never signed.
            let forger = SigningKeyPair.generate()
            let replicaKey = SigningKeyPair.generate()
            let signature = ReplicaCertificate.issue(companyKey: forger, replicaKey: replicaKey.publicKey).signature
            let forged = ReplicaCredentials(
                key: replicaKey,
                certificate: ReplicaCertificate(
                    company: globex.company,
                    replicaKey: replicaKey.publicKey,
                    signature: signature
                )
            )
            let impostor = SyncSession(
                role: .client(dialing: initech.company),
                configuration: SyncSession.Configuration(
                    credentials: forged,
                    partners: [initech.company: initech.card.signingKey],
                    limits: limits
                )
            )
            let refused = await TCPTransport.sync(
                to: PeerAddress(host: "127.0.0.1", port: Int(port)),
                session: impostor,
                store: NodeSyncStore(node: globex),
                limits: limits
            )
            if case .failure(let error) = refused {
                #expect(error.code == .refused, "\(error)")
            } else {
                Issue.record("an impostor got in")
            }
            #expect(await log.waitFor("certificate does not verify"))
            try await serverStillServes()

            // 3. A tampered frame: a proxy flips one bit in the client's first encrypted frame.
            let tamperedObject = try await opportunity(globex, title: "Tampered", with: [initech])
            let proxy = try RecordingProxy(upstream: port) { offset, chunk in
                var chunk = chunk
                let target = 320
                if offset <= target, target < offset + chunk.count { chunk[target - offset] ^= 0x04 }
                return chunk
            }
            defer { proxy.stop() }
            do throws(EntenteError) {
                _ = try await globex.sync(
                    with: initech.company,
                    address: "127.0.0.1:\(proxy.port)",
                    options: Node.SyncOptions(limits: limits)
                )
                Issue.record("a tampered frame went through")
            } catch {
                #expect(error.message.contains("failed authentication"), "\(error)")
            }
            #expect(await log.waitFor("failed authentication"))
            await #expect(throws: EntenteError.self) { try await initech.object(tamperedObject) }
            try await serverStillServes()
            #expect(try await initech.object(tamperedObject).joint("title")?.value == .string("Tampered"))

            // 4. An oversized frame: a 2 GiB length prefix is refused at once and the connection closed.
            let raw = try TestSocket.connectToLoopback(port: port)
            defer { close(raw) }
            try TestSocket.sendAll(raw, [0x7f, 0xff, 0xff, 0xff])
            #expect(
                await TestSocket.readUntilClosed(raw, timeout: .seconds(5)),
                "the server kept a connection that announced a 2 GiB frame"
            )
            #expect(await log.waitFor("over the limit"))
            try await serverStillServes()

            // 5. Garbage that is not the protocol at all.
            let garbage = try TestSocket.connectToLoopback(port: port)
            defer { close(garbage) }
            try TestSocket.sendAll(garbage, Array("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))
            #expect(await TestSocket.readUntilClosed(garbage, timeout: .seconds(5)))
            try await serverStillServes()
        }
    }

    @Test func aSlowClientThatNeverReadsIsCutOffWhileOthersAreServed() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let (globex, initech, umbra) = (deal.globex, deal.initech, deal.umbra)
        // About 12 MB for Umbra: more than the kernel buffers between a server and a reader that stopped.
        let id = try await opportunity(globex, title: "Bulk", with: [umbra])
        for index in 0..<12 {
            var changes = Changes()
            changes.shared = [
                FieldValue(
                    "attachment_\(index)",
                    String(repeating: Character(UnicodeScalar(UInt8(65 + index))), count: 1_000_000)
                )
            ]
            try await globex.update(id, changes: changes)
        }
        let forInitech = try await opportunity(globex, title: "For Initech", with: [initech])
        let log = EventLog()
        let limits = testLimits(write: .seconds(2), idle: .seconds(600))
        try await withSyncServer(
            node: globex,
            listeningOn: "127.0.0.1:0",
            options: SyncServer.Options(limits: limits, onEvent: log.record)
        ) { address in
            let port = try #require(UInt16(address.split(separator: ":").last ?? ""))
            let slow = try TestSocket.connectToLoopback(port: port, receiveBuffer: 4096)
            defer { close(slow) }
            try await handshakeAndSendSummary(fd: slow, node: umbra, dialing: globex.company, limits: limits)
            // Umbra now never reads. Meanwhile Initech syncs normally.
            let report = try await initech.sync(
                with: globex.company,
                address: address,
                options: Node.SyncOptions(limits: limits)
            )
            #expect(report.received >= 1)
            #expect(try await initech.object(forInitech).joint("title")?.value == .string("For Initech"))
            // The slow reader is cut off with a clear reason: the write timeout (2 s), long before the idle one (600 s).
            #expect(await log.waitFor("stopped reading", timeout: .seconds(120)), "\(log.all)")
            // Umbra, reading normally, gets everything.
            let full = try await umbra.sync(
                with: globex.company,
                address: address,
                options: Node.SyncOptions(limits: limits)
            )
            #expect(full.received >= 13)
            let view = try await umbra.object(id)
            #expect(view.fields.first { $0.company.name == "Globex" }?.fields.count == 12)
        }
    }

    @Test func partnersBeyondTheConnectionLimitAreToldToRetry() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let (globex, initech) = (deal.globex, deal.initech)
        let log = EventLog()
        let limits = testLimits()
        try await withSyncServer(
            node: initech,
            listeningOn: "127.0.0.1:0",
            options: SyncServer.Options(limits: limits, maxConnections: 1, onEvent: log.record)
        ) { address in
            let port = try #require(UInt16(address.split(separator: ":").last ?? ""))
            let hog = try TestSocket.connectToLoopback(port: port)
            #expect(await log.waitFor("accepted"))
            do throws(EntenteError) {
                _ = try await globex.sync(
                    with: initech.company,
                    address: address,
                    options: Node.SyncOptions(limits: limits)
                )
                Issue.record("a second partner got in beyond the limit of one")
            } catch {
                #expect(error.message.contains("busy"), "\(error)")
            }
            #expect(log.all.contains("busy"))
            close(hog)
            // Once the hog is gone (its session ends when its socket closes), the next partner gets in.
            var synced = false
            for _ in 0..<50 where !synced {
                synced =
                    (try? await globex.sync(
                        with: initech.company,
                        address: address,
                        options: Node.SyncOptions(limits: limits)
                    )) != nil
                if !synced { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(synced)
        }
    }
}
