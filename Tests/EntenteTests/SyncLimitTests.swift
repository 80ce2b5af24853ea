import EntenteCore
import EntenteSync
import Foundation
import Testing

@testable import Entente

/// Per-sync limits: a partner that sends too much is cut off with a clear error; others are unaffected.
@Suite struct SyncLimitTests {
    func sync(_ client: Node, to server: Node, limits: SyncLimits) async throws -> SyncReport {
        let (clientEnd, serverEnd) = InMemoryConnection.pair(tap: { _, _, bytes in .deliver(bytes) })
        async let served = server.serveSync(over: serverEnd, options: Node.SyncOptions(limits: limits))
        let dialled = try await client.sync(with: server.company, over: clientEnd, options: Node.SyncOptions())
        _ = try? await served
        return dialled
    }

    @Test func aPartnerOverTheEnvelopeLimitIsCutOffAndOthersAreServed() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        var limits = SyncLimits()
        limits.maxEnvelopesPerSync = 5
        // Globex has ten envelopes for Initech; Umbra has two.
        for index in 0..<10 {
            _ = try await deal.globex.create(
                type: "opportunity",
                changes: Changes(fields: [FieldValue("title", "Deal \(index)")]),
                with: [deal.initech.company]
            )
        }
        _ = try await deal.umbra.create(
            type: "opportunity",
            changes: Changes(fields: [FieldValue("title", "Small")]),
            with: [deal.initech.company]
        )
        let before = try await fingerprint(deal.initech)
        do {
            _ = try await sync(deal.globex, to: deal.initech, limits: limits)
            Issue.record("a partner over the per-sync limit was served")
        } catch {
            #expect("\(error)".contains("limit of 5"), "\(error)")
        }
        #expect(try await fingerprint(deal.initech) == before, "the cut-off sync imported something")
        let small = try await sync(deal.umbra, to: deal.initech, limits: limits)
        #expect(small.sent >= 1)
        #expect(try await deal.initech.objects().map(\.title) == ["Small"])
        var bytes = SyncLimits()
        bytes.maxBytesPerSync = 100
        do {
            _ = try await sync(deal.globex, to: deal.initech, limits: bytes)
            Issue.record("a partner over the per-sync byte limit was served")
        } catch { #expect("\(error)".contains("bytes"), "\(error)") }
    }

    @Test func aLargeBatchIsCommittedInTransactionsOfBoundedSize() async throws {
        #expect(
            NodeSyncStore.transactions([10, 20, 40, 100, 5, 5], limit: 50) == [0..<2, 2..<3, 3..<4, 4..<6]
        )
        #expect(NodeSyncStore.transactions([], limit: 50).isEmpty)
        #expect(NodeSyncStore.transactions([70], limit: 50) == [0..<1])
        // A batch of envelopes well over one transaction's size arrives whole, in one network batch.
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let long = String(repeating: "x", count: 20_000)
        for index in 0..<12 {
            _ = try await deal.globex.create(
                type: "opportunity",
                changes: Changes(fields: [FieldValue("title", "Deal \(index)"), FieldValue("next_steps", long)]),
                with: [deal.initech.company]
            )
        }
        let pending = try await deal.globex.envelopes(for: deal.initech.company, since: try await deal.initech.summary())
        let sizes = pending.map(\.count)
        #expect(NodeSyncStore.transactions(sizes, limit: NodeSyncStore.transactionBytes).count >= 3, "\(sizes)")
        let report = try await sync(deal.globex, to: deal.initech, limits: SyncLimits())
        #expect(report.sent == pending.count && report.peerApplied == pending.count)
        #expect(try await deal.initech.objects().count == 12)
        #expect(try await deal.initech.verify().isSound)
    }
}
