import EntenteCore
import EntenteCrypto
import EntenteWire
import Synchronization
import Testing

@testable import EntenteSync

/// The exchange after the handshake: batching, limits, acknowledgements, resumption, timeouts.
@Suite struct NetworkSessionTests {
    let alice = Identity()
    let bob = Identity()

    /// Collects progress events.
    final class Progress: Sendable {
        private let events = Mutex<[SyncProgress]>([])
        func add(_ progress: SyncProgress) { events.withLock { $0.append(progress) } }
        var all: [SyncProgress] { events.withLock { $0 } }
    }

    @Test func batchesAreBoundedByCountAndAcknowledgedInOrder() async throws {
        let aliceStore = FakeStore(alice, envelopes: FakeStore.envelopes(600, tag: 1))
        let bobStore = FakeStore(bob, envelopes: FakeStore.envelopes(7, tag: 2))
        let progress = Progress()
        let result = await runPair(
            client: alice.configuration(trusting: [bob]),
            dialing: bob.company,
            clientStore: aliceStore,
            server: bob.configuration(trusting: [alice]),
            serverStore: bobStore,
            clientObserver: SyncObserver(progress: { progress.add($0) })
        )
        let report = try #require(result.client.report, "\(String(describing: result.client.error))")
        #expect(report.sent == 600 && report.received == 7 && report.peerApplied == 600 && report.applied == 7)
        #expect(bobStore.received(from: alice) == FakeStore.envelopes(600, tag: 1))
        let sending = progress.all.filter { $0.direction == .sending }.map(\.envelopes)
        #expect(sending == [256, 512, 600])
        #expect(progress.all.filter { $0.direction == .receiving }.map(\.envelopes) == [7])
        #expect(progress.all.allSatisfy { $0.peer == bob.company })
    }

    @Test func batchesAreBoundedByBytesAndALargeEnvelopeTravelsAlone() async throws {
        var limits = SyncLimits.forTests
        limits.maxBatchBytes = 10_000
        let sizes = [4_000, 4_000, 4_000, 30_000, 100, 100]
        let envelopes = sizes.enumerated().map { index, size in [UInt8](repeating: UInt8(index), count: size) }
        let progress = Progress()
        let bobStore = FakeStore(bob)
        let result = await runPair(
            client: alice.configuration(trusting: [bob], limits: limits),
            dialing: bob.company,
            clientStore: FakeStore(alice, envelopes: envelopes),
            server: bob.configuration(trusting: [alice], limits: limits),
            serverStore: bobStore,
            limits: limits,
            clientObserver: SyncObserver(progress: { progress.add($0) })
        )
        #expect(result.client.report?.sent == 6)
        #expect(progress.all.map(\.envelopes) == [2, 3, 4, 6])
        #expect(bobStore.received(from: alice) == envelopes)
    }

    @Test func anInterruptedSyncResumesWithoutLossOrDuplication() async throws {
        var limits = SyncLimits.forTests
        limits.maxEnvelopesPerBatch = 10
        let mine = FakeStore.envelopes(95, tag: 1)
        let aliceStore = FakeStore(alice, envelopes: mine)
        let bobStore = FakeStore(bob)
        // Cut the link when Bob sends his third acknowledgement (server frames: hello, summary, done, acks).
        let cut = await runPair(
            client: alice.configuration(trusting: [bob], limits: limits),
            dialing: bob.company,
            clientStore: aliceStore,
            server: bob.configuration(trusting: [alice], limits: limits),
            serverStore: bobStore,
            limits: limits,
            tap: { side, index, bytes in side == .server && index == 5 ? .cut : .deliver(bytes) }
        )
        #expect(cut.client.error?.code == .closed)
        #expect(cut.server.report == nil)
        let partial = bobStore.received(from: alice)
        #expect(partial.count > 0 && partial.count < 95, "the cut was not mid-transfer: \(partial.count)")
        #expect(partial == Array(mine.prefix(partial.count)))

        let resumed = await runPair(
            client: alice.configuration(trusting: [bob], limits: limits),
            dialing: bob.company,
            clientStore: aliceStore,
            server: bob.configuration(trusting: [alice], limits: limits),
            serverStore: bobStore,
            limits: limits
        )
        #expect(resumed.client.report?.sent == 95 - partial.count)
        #expect(bobStore.received(from: alice) == mine)

        // A third sync moves nothing.
        let idle = await runPair(
            client: alice.configuration(trusting: [bob], limits: limits),
            dialing: bob.company,
            clientStore: aliceStore,
            server: bob.configuration(trusting: [alice], limits: limits),
            serverStore: bobStore,
            limits: limits
        )
        #expect(idle.client.report?.sent == 0 && idle.client.report?.received == 0)
    }

    @Test func anOversizedFrameAnnouncementIsRefusedAtOnce() async throws {
        // Before the handshake: a 1 GiB length prefix is refused without waiting for (or buffering) the body.
        var server = SyncSession(role: .server, configuration: bob.configuration(trusting: [alice]))
        _ = server.start()
        var actions = server.receive([0x40, 0, 0, 0])
        #expect(failure(in: actions)?.code == .tooLarge)
        // Just over the handshake limit.
        server = SyncSession(role: .server, configuration: bob.configuration(trusting: [alice]))
        _ = server.start()
        actions = server.receive([0, 0, 0x10, 0x01])
        #expect(failure(in: actions)?.code == .tooLarge)
    }

    @Test func anOversizedFrameAfterTheHandshakeEndsTheSession() async throws {
        var small = SyncLimits.forTests
        small.maxFrame = 2_000
        let bobStore = FakeStore(bob)
        let result = await runPair(
            client: alice.configuration(trusting: [bob]),
            dialing: bob.company,
            clientStore: FakeStore(alice, envelopes: [[UInt8](repeating: 7, count: 5_000)]),
            server: bob.configuration(trusting: [alice], limits: small),
            serverStore: bobStore
        )
        #expect(result.server.error?.code == .tooLarge)
        #expect(result.client.error?.code == .peerError)
        #expect(result.client.error?.message.contains("over the limit") == true)
        #expect(bobStore.received(from: alice).isEmpty)
    }

    @Test func aSilentPeerIsCutOffAfterTheHandshakeTimeout() async throws {
        var limits = SyncLimits.forTests
        limits.handshakeTimeout = .milliseconds(300)
        let (client, server) = InMemoryConnection.pair()
        // The "client" connects and says nothing.
        let result = await server.run(
            SyncSession(role: .server, configuration: bob.configuration(trusting: [alice], limits: limits)),
            store: FakeStore(bob),
            limits: limits
        )
        #expect(result.error?.code == .timedOut)
        #expect(result.error?.message.contains("handshake did not complete") == true)
        _ = client
    }

    @Test func aPeerThatGoesSilentAfterTheHandshakeIsCutOff() async throws {
        var limits = SyncLimits.forTests
        limits.idleTimeout = .milliseconds(300)
        let (client, server) = InMemoryConnection.pair()
        async let served = server.run(
            SyncSession(role: .server, configuration: bob.configuration(trusting: [alice], limits: limits)),
            store: FakeStore(bob),
            limits: limits
        )
        // A hand-driven client completes the handshake, then never sends its summary.
        var session = SyncSession(
            role: .client(dialing: bob.company),
            configuration: alice.configuration(trusting: [bob], limits: limits)
        )
        var authenticatedOK = false
        for action in session.start() { if case .send(let bytes) = action { client.write(bytes) } }
        for await bytes in client.incoming {
            for action in session.receive(bytes) {
                if case .send(let frame) = action { client.write(frame) }
                if case .authenticated = action { authenticatedOK = true }
            }
            if authenticatedOK { break }
        }
        #expect(authenticatedOK)
        let result = await served
        #expect(result.error?.code == .timedOut)
        #expect(result.error?.message.contains("sent nothing") == true)
    }

    @Test func aPeerClosingMidSyncIsReportedAndWhatWasCommittedStays() async throws {
        var limits = SyncLimits.forTests
        limits.maxEnvelopesPerBatch = 5
        let bobStore = FakeStore(bob)
        let result = await runPair(
            client: alice.configuration(trusting: [bob], limits: limits),
            dialing: bob.company,
            clientStore: FakeStore(alice, envelopes: FakeStore.envelopes(50)),
            server: bob.configuration(trusting: [alice], limits: limits),
            serverStore: bobStore,
            limits: limits,
            tap: { side, index, bytes in side == .client && index == 5 ? .cut : .deliver(bytes) }
        )
        #expect(result.server.error?.code == .closed)
        #expect(result.server.error?.message.contains("before the sync was complete") == true)
        #expect(bobStore.received(from: alice).count > 0)
        #expect(bobStore.received(from: alice).count < 50)
    }

    @Test func aStoreFailureIsReportedToBothSides() async throws {
        let bobStore = FakeStore(bob)
        bobStore.failImports(true)
        let result = await runPair(
            client: alice.configuration(trusting: [bob]),
            dialing: bob.company,
            clientStore: FakeStore(alice, envelopes: FakeStore.envelopes(3)),
            server: bob.configuration(trusting: [alice]),
            serverStore: bobStore
        )
        #expect(result.server.error?.code == .storage)
        #expect(result.client.error?.code == .peerError)
        #expect(result.client.error?.message.contains("disk full") == true)
    }

    @Test func summariesAndBatchesRoundTripAndRefuseHostileCounts() throws {
        let summary = Summary(company: alice.company, held: [bob.replica: 7, alice.replica: 1 << 40])
        #expect(
            try SessionMessage.decode(SessionMessage.summary(summary).encoded(), limits: SyncLimits())
                == .summary(summary)
        )
        let batch = SessionMessage.batch(number: 3, total: 9, envelopes: [[1, 2, 3], [4]])
        #expect(try SessionMessage.decode(batch.encoded(), limits: SyncLimits()) == batch)

        var limits = SyncLimits()
        limits.maxSummaryEntries = 1
        #expect(throws: SyncError.self) {
            try SessionMessage.decode(SessionMessage.summary(summary).encoded(), limits: limits)
        }
        limits.maxEnvelopesPerBatch = 1
        #expect(throws: SyncError.self) { try SessionMessage.decode(batch.encoded(), limits: limits) }
        // A batch announcing 2^32 - 1 envelope bytes in a 20-byte message.
        let lying: [UInt8] = [SessionType.batch.rawValue, 1, 1, 1, 0xff, 0xff, 0xff, 0xff, 1, 2, 3]
        #expect(throws: SyncError.self) { try SessionMessage.decode(lying, limits: SyncLimits()) }
        // Every truncation of a valid message is refused.
        let encoded = batch.encoded()
        for length in 0..<encoded.count {
            #expect(throws: SyncError.self) {
                try SessionMessage.decode(Array(encoded.prefix(length)), limits: SyncLimits())
            }
        }
        #expect(throws: SyncError.self) { try SessionMessage.decode(encoded + [0], limits: SyncLimits()) }
    }

    @Test func revocationsFollowTheSummaryAndAreAdmittedBeforeAnyBatch() async throws {
        let lost = [ReplicaID(raw: ID128(high: 1, low: 1)), ReplicaID(raw: ID128(high: 1, low: 2))]
        let statements = lost.map { ReplicaRevocation.issue(companyKey: alice.companyKey, replica: $0, at: 1_000) }
        let aliceStore = FakeStore(alice, envelopes: FakeStore.envelopes(300, tag: 1))
        aliceStore.hold(statements)
        let bobStore = FakeStore(bob)
        let first = try await syncedPair(alice, aliceStore, bob, bobStore)
        #expect(first.client.revocationsSent == 2 && first.server.revocationsLearnt == 2)
        #expect(bobStore.heldRevocations == statements)
        // Admitted before the first of Alice's two batches was imported.
        #expect(bobStore.events == ["admit 2", "import 256", "import 44"], "\(bobStore.events)")
        // Bob passes them back; nobody learns anything new the second time.
        let second = try await syncedPair(alice, aliceStore, bob, bobStore)
        #expect(second.client.revocationsLearnt == 0 && second.server.revocationsLearnt == 0)
        #expect(second.server.revocationsSent == 2 && second.client.revocationsSent == 2)
    }

    @Test func revocationMessagesRoundTripAndRefuseHostileCounts() throws {
        let statement = ReplicaRevocation.issue(
            companyKey: alice.companyKey,
            replica: ReplicaID(raw: ID128(high: 3, low: 4)),
            at: 42
        )
        let message = SessionMessage.revocations([statement, statement])
        #expect(try SessionMessage.decode(message.encoded(), limits: SyncLimits()) == message)
        let encoded = message.encoded()
        for length in 0..<encoded.count {
            #expect(throws: SyncError.self) {
                try SessionMessage.decode(Array(encoded.prefix(length)), limits: SyncLimits())
            }
        }
        #expect(throws: SyncError.self) { try SessionMessage.decode(encoded + [0], limits: SyncLimits()) }
        // None, or more than a bundle may carry, is refused before anything is read.
        #expect(throws: SyncError.self) {
            try SessionMessage.decode([SessionType.revocations.rawValue, 0], limits: SyncLimits())
        }
        var many = ByteWriter()
        many.write(SessionType.revocations.rawValue)
        many.writeVarint(UInt64(Bundle.maxRevocations + 1))
        #expect(throws: SyncError.self) { try SessionMessage.decode(many.bytes, limits: SyncLimits()) }
    }
}
