import EntenteCore
import EntenteWire
import Testing

@testable import EntenteSync

/// The sender counts what the peer lacks, then reads it page by page: it never holds more than its window of
/// batches and one page, whatever the size of the sync.
@Suite struct PagedSenderTests {
    let alice = Identity()
    let bob = Identity()

    /// Limits with batches of `batch` envelopes.
    static func limits(batch: Int) -> SyncLimits {
        var limits = SyncLimits.forTests
        limits.maxEnvelopesPerBatch = batch
        return limits
    }

    func sync(
        _ aliceStore: FakeStore,
        _ bobStore: FakeStore,
        limits: SyncLimits,
        tap: (@Sendable (InMemorySide, Int, [UInt8]) -> InMemoryDelivery)? = nil
    ) async -> (client: Result<SyncReport, SyncError>, server: Result<SyncReport, SyncError>) {
        await runPair(
            client: alice.configuration(trusting: [bob], limits: limits),
            dialing: bob.company,
            clientStore: aliceStore,
            server: bob.configuration(trusting: [alice], limits: limits),
            serverStore: bobStore,
            limits: limits,
            tap: tap,
            clientObserver: SyncObserver(progress: { aliceStore.acknowledged($0) })
        )
    }

    @Test func theSenderReadsOnePageAtATimeAndHoldsAtMostTheWindowAndAPage() async throws {
        let limits = Self.limits(batch: 10)
        let mine = FakeStore.envelopes(650, tag: 1)
        let aliceStore = FakeStore(alice, envelopes: mine)
        let bobStore = FakeStore(bob)
        let result = await sync(aliceStore, bobStore, limits: limits)
        let report = try #require(result.client.report, "\(String(describing: result.client.error))")
        #expect(report.sent == 650 && report.peerApplied == 650)
        // Complete and in log order.
        #expect(bobStore.received(from: alice) == mine)
        // Never more than a page asked for or returned, and every page used.
        let pages = aliceStore.pages
        #expect(pages.count == 65)
        #expect(pages.allSatisfy { $0.asked <= 10 && $0.returned <= $0.asked && $0.returned > 0 })
        // Read but unacknowledged: at most the two batches of the window and one page (the whole sync before
        // paging).
        #expect(aliceStore.maxOutstanding <= (limits.window + 1) * 10, "\(aliceStore.maxOutstanding)")
        #expect(aliceStore.maxOutstanding > 10, "the sender did not read ahead: \(aliceStore.maxOutstanding)")
    }

    @Test func pagesAreBoundedByBytesToo() async throws {
        var limits = Self.limits(batch: 256)
        limits.maxBatchBytes = 1_000
        let mine = FakeStore.envelopes(100, size: 300, tag: 1)
        let aliceStore = FakeStore(alice, envelopes: mine)
        let bobStore = FakeStore(bob)
        let result = await sync(aliceStore, bobStore, limits: limits)
        #expect(result.client.report?.sent == 100)
        #expect(bobStore.received(from: alice) == mine)
        // Three envelopes of 300 bytes fit in 1,000.
        #expect(aliceStore.pages.map(\.returned) == Array(repeating: 3, count: 33) + [1])
        #expect(aliceStore.maxOutstanding <= 9)
    }

    @Test func anInterruptedPagedSyncResumesAfterWhatWasCommitted() async throws {
        let limits = Self.limits(batch: 10)
        let mine = FakeStore.envelopes(640, tag: 1)
        let aliceStore = FakeStore(alice, envelopes: mine)
        let bobStore = FakeStore(bob)
        // Cut the link at Bob's twentieth acknowledgement (server frames: hello, summary, done, then acks).
        let cut = await sync(aliceStore, bobStore, limits: limits) { side, index, bytes in
            side == .server && index == 22 ? .cut : .deliver(bytes)
        }
        #expect(cut.client.error?.code == .closed)
        let partial = bobStore.received(from: alice)
        #expect(partial.count >= 190 && partial.count < 640, "the cut was not mid-transfer: \(partial.count)")
        #expect(partial == Array(mine.prefix(partial.count)))
        let pagesBefore = aliceStore.pages.count

        let resumed = await sync(aliceStore, bobStore, limits: limits)
        #expect(resumed.client.report?.sent == 640 - partial.count)
        #expect(bobStore.received(from: alice) == mine)
        // The resumed session reads only what Bob lacks.
        let returned = aliceStore.pages.dropFirst(pagesBefore).map(\.returned)
        #expect(returned.reduce(0, +) == 640 - partial.count)
    }

    @Test func envelopesLoggedDuringASyncWaitForTheNextOne() async throws {
        let limits = Self.limits(batch: 10)
        let mine = FakeStore.envelopes(60, tag: 1)
        let later = FakeStore.envelopes(70, tag: 1).suffix(10)
        let aliceStore = FakeStore(alice, envelopes: mine)
        aliceStore.appendDuringSync(Array(later))
        let bobStore = FakeStore(bob)
        let first = await sync(aliceStore, bobStore, limits: limits)
        // The total announced in every batch stays right: the new envelopes are past the counted bound.
        #expect(first.client.report?.sent == 60, "\(String(describing: first.client.error))")
        #expect(first.server.report?.received == 60)
        #expect(bobStore.received(from: alice) == mine)
        let second = await sync(aliceStore, bobStore, limits: limits)
        #expect(second.client.report?.sent == 10)
        #expect(bobStore.received(from: alice) == mine + later)
    }

    /// A store whose pages lose envelopes it counted.
    struct ShortStore: SyncStore {
        let base: FakeStore
        func summary() async throws -> Summary { try await base.summary() }
        func selectEnvelopes(for partner: CompanyID, since summary: Summary) async throws -> OutgoingSelection {
            var selection = try await base.selectEnvelopes(for: partner, since: summary)
            selection.count += 1
            return selection
        }
        func envelopes(_ request: OutgoingPageRequest) async throws -> OutgoingPage {
            try await base.envelopes(request)
        }
        func importBatch(_ envelopes: [[UInt8]], from peer: CompanyID) async throws -> ImportOutcome {
            try await base.importBatch(envelopes, from: peer)
        }
        func revocations() async throws -> [ReplicaRevocation] {
            try await base.revocations()
        }
        func admit(_ revocations: [ReplicaRevocation], from peer: CompanyID) async throws -> Int {
            try await base.admit(revocations, from: peer)
        }
    }

    @Test func aStoreThatReturnsLessThanItCountedEndsTheSession() async throws {
        let limits = Self.limits(batch: 10)
        let result = await runPair(
            client: alice.configuration(trusting: [bob], limits: limits),
            dialing: bob.company,
            clientStore: ShortStore(base: FakeStore(alice, envelopes: FakeStore.envelopes(25, tag: 1))),
            server: bob.configuration(trusting: [alice], limits: limits),
            serverStore: FakeStore(bob),
            limits: limits
        )
        #expect(result.client.error?.code == .storage)
        #expect(result.client.error?.message.contains("1 of the 26 it counted") == true)
        #expect(result.server.error?.code == .peerError)
    }
}
