import EntenteCore
import EntenteSync
import EntenteWire
import Foundation
import GRDB
import Testing

@testable import Entente

/// Storage quotas: how many envelope bytes each partner may make a node hold, over time and whoever relays.
@Suite struct QuotaTests {
    func deal(_ node: Node, _ title: String, with partners: [CompanyID]) async throws -> ObjectID {
        try await node.create(
            type: "opportunity",
            changes: Changes(fields: [FieldValue("title", title)]),
            with: partners
        )
    }

    func storage(of partner: Node, at node: Node) async throws -> PartnerStorage {
        try #require(try await node.storageUsage().first { $0.partner.company == partner.company })
    }

    @Test func aBundleThatWouldTakeAPartnerOverItsQuotaIsRefusedWhole() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let (globex, initech) = (deal.globex, deal.initech)
        _ = try await self.deal(globex, "First", with: [initech.company])
        let first = try await send(globex, initech)
        let held = try await storage(of: globex, at: initech)
        let firstBytes = try Bundle(decoding: first).envelopes.reduce(0) { $0 + $1.count }
        #expect(held.envelopes >= 1 && held.bytes == Int64(firstBytes))
        #expect(held.quota == Node.builtInStorageQuota && !held.isOwnQuota)

        // Initech lets Globex hold only what it holds already plus 100 bytes.
        try await initech.setStorageQuota(held.bytes + 100, for: globex.company)
        for index in 0..<3 { _ = try await self.deal(globex, "More \(index)", with: [initech.company]) }
        let bundle = try await globex.exportBundle(to: initech.company, since: try await initech.summary()).encoded()
        let before = try await fingerprint(initech)
        do {
            try await initech.importBundle(bundle)
            Issue.record("a bundle over Globex's quota was imported")
        } catch {
            #expect(error.code == .quotaExceeded, "\(error)")
            #expect(error.message.contains("Globex") && error.message.contains("quota"), "\(error.message)")
            #expect(error.message.contains("nothing was imported"), "\(error.message)")
        }
        #expect(try await fingerprint(initech) == before)
        #expect(try await storage(of: globex, at: initech).bytes == held.bytes)

        // Raised again (back to the default): the same bundle goes in, and usage counts it exactly.
        try await initech.setStorageQuota(nil, for: globex.company)
        try await initech.importBundle(bundle)
        let after = try await storage(of: globex, at: initech)
        let added = try Bundle(decoding: bundle).envelopes.reduce(0) { $0 + $1.count }
        #expect(after.bytes == held.bytes + Int64(added) && after.envelopes == held.envelopes + 3)
        #expect(try await initech.verify().isSound)

        // The node default applies to partners without their own quota; this company's own replicas have none.
        try await initech.setDefaultStorageQuota(0)
        #expect(try await storage(of: globex, at: initech).quota == 0)
        #expect(try await storage(of: deal.umbra, at: initech).quota == 0)
        try await initech.setStorageQuota(1 << 30, for: globex.company)
        #expect(try await storage(of: globex, at: initech).isOwnQuota)
        let laptop = try Node.join(at: deal.root.appendingPathComponent("laptop"), enrollment: try await initech.enrollReplica())
        _ = try await self.deal(laptop, "From the laptop", with: [])
        try await initech.importBundle(try await laptop.exportBundle(to: initech.company).encoded())
        await #expect(throws: EntenteError.self) { try await initech.setStorageQuota(5, for: initech.company) }
        await #expect(throws: EntenteError.self) { try await initech.setStorageQuota(-1, for: globex.company) }
    }

    @Test func overTheNetworkAPartnerOverQuotaIsCutOffAndRelayedEnvelopesAreRefusedAlone() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let (globex, initech, umbra) = (deal.globex, deal.initech, deal.umbra)
        // Umbra's deal reaches Globex, which would relay it to Initech along with its own.
        _ = try await self.deal(umbra, "Umbra's deal", with: [globex.company, initech.company])
        _ = try await networkSync(umbra, globex)
        _ = try await self.deal(globex, "Globex's deal", with: [initech.company])
        try await initech.setStorageQuota(0, for: umbra.company)

        // Globex's own envelopes arrive; Umbra's, relayed, are refused one by one, and the session completes.
        let relayed = try await networkSync(globex, initech)
        #expect(relayed.server.refused >= 1 && relayed.server.applied >= 1, "\(relayed.server)")
        #expect(relayed.server.refusedReasons.allSatisfy { $0.contains("Umbra Cloud") && $0.contains("quota") })
        #expect(try await initech.objects().map(\.title) == ["Globex's deal"])
        #expect(try await storage(of: umbra, at: initech).envelopes == 0)

        // Umbra itself is cut off with the reason; what Initech holds does not change.
        let before = try await fingerprint(initech)
        do {
            _ = try await networkSync(umbra, initech)
            Issue.record("a partner over its quota was served")
        } catch {
            #expect("\(error)".contains("quota"), "\(error)")
        }
        #expect(try await fingerprint(initech) == before)
        // Others are unaffected.
        _ = try await self.deal(globex, "Another", with: [initech.company])
        let next = try await networkSync(globex, initech)
        #expect(next.server.applied >= 1)
        #expect(try await initech.objects().compactMap(\.title).sorted() == ["Another", "Globex's deal"])
        // Given room, Umbra's deal arrives.
        try await initech.setStorageQuota(nil, for: umbra.company)
        _ = try await networkSync(umbra, initech)
        #expect(try await initech.objects().compactMap(\.title).sorted() == ["Another", "Globex's deal", "Umbra's deal"])
        #expect(try await initech.verify().isSound)
    }

    @Test func verifyReportsUsageThatDisagreesWithTheLog() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        _ = try await self.deal(deal.globex, "Deal", with: [deal.initech.company])
        _ = try await send(deal.globex, deal.initech)
        #expect(try await deal.initech.verify().isSound)
        let globexID = deal.globex.company
        let report = try await VerifyTests.verifyCorrupted(deal.initech, deal.root, "usage") { db in
            try db.execute(
                sql: "UPDATE origin_usage SET bytes = bytes + 1 WHERE company = ?",
                arguments: [Data(globexID.bytes)]
            )
        }
        #expect(report.problems.contains { $0.area == .usage && $0.subject == globexID.hex }, "\(report.problems)")
    }

    @Test func aStoreFromBeforeQuotasCountsWhatItHeldWhenUpgraded() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        _ = try await self.deal(deal.globex, "Deal", with: [deal.initech.company, deal.umbra.company])
        _ = try await self.deal(deal.umbra, "Umbra's", with: [deal.initech.company])
        _ = try await send(deal.globex, deal.initech)
        _ = try await send(deal.umbra, deal.initech)
        let expected = try await deal.initech.storageUsage()
        #expect(expected.allSatisfy { $0.bytes > 0 && $0.envelopes > 0 })
        // A copy of Initech's store put back to its layout before migration v4.
        let copy = deal.root.appendingPathComponent("initech-v3")
        try FileManager.default.copyItem(at: deal.initech.directory, to: copy)
        let queue = try DatabaseQueue(path: copy.appendingPathComponent("entente.sqlite").path)
        try await queue.write { db in
            try db.execute(
                sql: """
                    DROP TRIGGER envelope_usage_insert; DROP TRIGGER envelope_usage_delete; DROP TABLE origin_usage;
                    ALTER TABLE company DROP COLUMN quota_bytes;
                    DELETE FROM grdb_migrations WHERE identifier = 'v4';
                    """
            )
        }
        try queue.close()
        let upgraded = try Node.open(at: copy)
        #expect(try await upgraded.storageUsage() == expected)
        #expect(try await upgraded.verify().isSound)
    }
}
