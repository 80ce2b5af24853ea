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

    @Test func aLargeBatchIsCommittedInTransactionsOfBoundedSizeAndTime() async throws {
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
        #expect(pending.count >= 12)
        // One transaction takes envelopes while its time and bytes last, and always at least one.
        let umbra = deal.umbra
        let (spent, one) = await umbra.importFront(pending[...], budget: .zero, maxBytes: .max)
        #expect(one == 1)
        #expect(throws: EntenteError.self) { try spent.get() }  // not addressed to Umbra: refused, counted
        let (fits, taken) = await deal.initech.importFront(pending[...], budget: .seconds(3600), maxBytes: 50_000)
        #expect(try fits.get().applied == taken)
        #expect(taken == 2, "\(pending.map(\.count))")  // about 20 KB each
        let (whole, all) = await deal.initech.importFront(pending[2...], budget: .seconds(3600), maxBytes: .max)
        #expect(all == pending.count - 2)
        #expect(try whole.get().applied == all)
        #expect(try await deal.initech.objects().count == 12)

        // Over the network the whole batch arrives in one network batch and is committed in several
        // transactions.
        let fresh = try await Deal.make()
        defer { fresh.cleanUp() }
        for index in 0..<12 {
            _ = try await fresh.globex.create(
                type: "opportunity",
                changes: Changes(fields: [FieldValue("title", "Deal \(index)"), FieldValue("next_steps", long)]),
                with: [fresh.initech.company]
            )
        }
        _ = fresh.initech.takeWriteStatistics()
        let report = try await sync(fresh.globex, to: fresh.initech, limits: SyncLimits())
        #expect(report.peerApplied == report.sent && report.sent >= 12)
        #expect(fresh.initech.takeWriteStatistics().transactions >= 3)
        #expect(try await fresh.initech.objects().count == 12)
        #expect(try await fresh.initech.verify().isSound)
    }
}
