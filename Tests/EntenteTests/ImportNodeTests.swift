import EntenteCore
import EntenteDomain
import Foundation
import Testing

@testable import Entente

/// CRM records into a node: upsert by CRM id, all or nothing, policies on import, re-import writes nothing.
@Suite struct ImportNodeTests {
    func record(_ line: Int, _ key: String, _ pairs: [(String, String)], sets: [String: [String]] = [:]) -> ImportRecord {
        ImportRecord(line: line, key: key, fields: pairs.map { FieldValue($0.0, .string($0.1)) }, sets: sets)
    }

    var records: [ImportRecord] {
        [
            record(2, "006A", [("title", "Acme"), ("stage", "qualified"), ("region", "EMEA"), ("amount", "1000 USD")]),
            record(3, "006B", [("title", "Bolt"), ("stage", "committed"), ("region", "NA")], sets: ["delivery_models": ["saas", "marketplace"]]),
            record(4, "006C", [("title", "Core"), ("stage", "closed-lost"), ("closed_lost_reason", "price")]),
        ]
    }

    @Test func importUpsertsByCRMIdAndReimportWritesNothing() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        _ = try await deal.globex.addPolicy(
            Policy(type: "opportunity", conditions: [Condition("region=EMEA")!], invite: [deal.initech.company])
        )
        var reported: [(Int, Int)] = []
        let first = try await deal.globex.importRecords(type: "opportunity", records, chunk: 2) { reported.append(($0, $1)) }
        #expect(first.created == 3 && first.updated == 0 && first.problems.isEmpty)
        #expect(reported.last.map { $0.0 == 3 && $0.1 == 3 } == true && reported.count == 2)
        let objects = try await deal.globex.objects()
        #expect(objects.count == 3)
        let acme = try #require(objects.first { $0.title == "Acme" })
        let view = try await deal.globex.object(acme.id)
        #expect(view.participants.map(\.name).contains("Initech"), "the EMEA policy applied on import")
        #expect(view.field("crm_id", of: deal.globex.company)?.value == .string("006A"))
        #expect(view.privateFields.contains("amount") && view.privateFields.contains("crm_id"))
        let envelopes = try await deal.globex.status().envelopes
        let again = try await deal.globex.importRecords(type: "opportunity", records)
        #expect(again.unchanged == 3 && again.created == 0 && again.updated == 0)
        #expect(try await deal.globex.status().envelopes == envelopes, "a re-import wrote something")
        var changed = records
        changed[0] = record(2, "006A", [("title", "Acme"), ("stage", "committed"), ("region", "EMEA")])
        changed[1].sets = ["delivery_models": ["saas"]]
        let third = try await deal.globex.importRecords(type: "opportunity", changed)
        #expect(third.updated == 2 && third.unchanged == 1)
        #expect(try await deal.globex.object(acme.id).joint("stage")?.value == .string("committed"))
        let bolt = try #require(objects.first { $0.title == "Bolt" })
        #expect(try await deal.globex.object(bolt.id).joint("delivery_models")?.elements == ["saas"])
    }

    /// Each chunk looks up the objects its keys name: by CRM id or by object id, within the imported type only.
    @Test func keysMatchByCRMIdOrObjectIdWithinTheTypeChunkByChunk() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let node = deal.globex
        var title = Changes()
        title.joint = [FieldValue("title", "Made by hand")]
        let handMade = try await node.create(type: "opportunity", changes: title, with: [])
        let lead = try await node.create(type: "lead", changes: Changes(), with: [])
        _ = try await node.importRecords(type: "lead", [record(2, "L1", [("title", "A lead")])])
        let first = try await node.importRecords(type: "opportunity", records, chunk: 1)
        #expect(first.created == 3)
        var next = records
        next[2] = record(4, "006C", [("title", "Core renamed"), ("stage", "closed-lost"), ("closed_lost_reason", "price")])
        next += [
            // The hand-made opportunity, keyed by its object id as an export without CRM id writes it.
            record(5, handMade.hex, [("title", "Made by hand, edited")]),
            // A lead's object id and a lead's CRM id name no opportunity: both are new records.
            record(6, lead.hex, [("title", "Not the lead")]),
            record(7, "L1", [("title", "Not the lead either")]),
        ]
        // Chunks of two records: every lookup is made for a chunk alone.
        let chunks = stride(from: 0, to: next.count, by: 2).map { Array(next[$0..<min($0 + 2, next.count)]) }
        let summary = try await node.importRecords(type: "opportunity") { deliver in
            for chunk in chunks { try deliver(ImportChunk(records: chunk, problems: [])) }
        }
        #expect(summary.problems.isEmpty, "\(summary.problems)")
        #expect(summary.updated == 2 && summary.unchanged == 2 && summary.created == 2, "\(summary)")
        #expect(try await node.object(handMade).joint("title")?.value == .string("Made by hand, edited"))
        #expect(try await node.object(lead).joint("title") == nil)
        let titles = Set(try await node.objects(type: "opportunity").map(\.title))
        #expect(titles.isSuperset(of: ["Core renamed", "Not the lead", "Not the lead either"]))
    }

    @Test func exportPassesPagesInCreationOrderAndStopsAtThePagesError() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        _ = try await deal.globex.importRecords(type: "opportunity", records)
        let whole = try await deal.globex.exportRecords(type: "opportunity")
        #expect(whole.map(\.key) == ["006A", "006B", "006C"])
        var pages: [[ExportRecord]] = []
        let count = try await deal.globex.exportRecords(type: "opportunity", pageSize: 2) { pages.append($0) }
        #expect(count == 3 && pages.map(\.count) == [2, 1] && Array(pages.joined()) == whole)
        var calls = 0
        do {
            try await deal.globex.exportRecords(type: "opportunity", pageSize: 1) { _ in
                calls += 1
                if calls == 2 { throw EntenteError(.badInput, "the second page cannot be written") }
            }
            Issue.record("an error thrown by the page did not stop the export")
        } catch {
            #expect(error.code == .badInput && error.message == "the second page cannot be written" && calls == 2)
        }
    }

    @Test func aBadRecordImportsNothingUnlessAskedToSkipIt() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        var bad = records
        bad.append(record(7, "006D", [("title", "Dud"), ("close_date", "31.02.2027")]))
        bad.append(record(9, "006E", [("title", "Lost"), ("stage", "closed-lost")]))
        bad.append(record(11, "006A", [("title", "Twice")]))
        let before = try await fingerprint(deal.globex)
        let refused = try await deal.globex.importRecords(type: "opportunity", bad)
        #expect(refused.dryRun && refused.problems.map(\.line) == [7, 9, 11])
        #expect(refused.problems[0].message.contains("close_date"))
        #expect(refused.problems[1].message.contains("closed_lost_reason"))
        #expect(refused.problems[2].message.contains("line 2"))
        #expect(try await fingerprint(deal.globex) == before, "an all-or-nothing import with problems wrote")
        let skipped = try await deal.globex.importRecords(type: "opportunity", bad, skipBadRecords: true)
        #expect(!skipped.dryRun && skipped.created == 3 && skipped.problems.count == 3)
        #expect(try await deal.globex.objects().count == 3)
    }

    /// A source delivering chunks is read once to check and once to write: a bad record or a problem the source
    /// reports in its last chunk keeps every earlier chunk from being written, and a source that changes between
    /// its two readings stops the import with an error naming the line and what was written.
    @Test func aChunkedSourceIsCheckedWholeBeforeAnythingIsWritten() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let many = (0..<25).map { index in
            record(2 + index, "K\(index)", [("title", "Deal \(index)"), ("stage", "qualified"), ("region", "NA")])
        }
        var readings = 0
        var reported: [(Int, Int)] = []
        func run(_ tail: ImportChunk, skip: Bool = false, dryRun: Bool = false) async throws -> ImportSummary {
            try await deal.globex.importRecords(
                type: "opportunity",
                skipBadRecords: skip,
                dryRun: dryRun,
                chunk: 4,
                progress: { reported.append(($0, $1)) }
            ) { deliver in
                readings += 1
                for start in stride(from: 0, to: many.count, by: 10) {
                    try deliver(ImportChunk(records: Array(many[start..<min(start + 10, many.count)])))
                }
                try deliver(tail)
            }
        }
        let before = try await fingerprint(deal.globex)
        let refused = try await run(ImportChunk(records: [], problems: [ImportProblem(line: 40, message: "unreadable row")]))
        #expect(refused.dryRun && refused.created == 25 && refused.problems.map(\.line) == [40] && readings == 1)
        let dud = ImportChunk(records: [record(41, "K99", [("title", "Dud"), ("close_date", "31.02.2027")])])
        let refusedRecord = try await run(dud)
        #expect(refusedRecord.dryRun && refusedRecord.problems.map(\.line) == [41] && readings == 2)
        #expect(try await fingerprint(deal.globex) == before, "an import with a bad last chunk wrote")
        let dry = try await run(ImportChunk(records: []), dryRun: true)
        #expect(dry.dryRun && dry.created == 25 && readings == 3 && reported.isEmpty)
        let skipped = try await run(dud, skip: true)
        #expect(!skipped.dryRun && skipped.created == 25 && skipped.problems.map(\.line) == [41] && readings == 5)
        // Chunks of 10, 10 and 5 records, written 4 at a time.
        #expect(reported.count == 8 && reported.last.map { $0 == (25, 25) } == true, "\(reported)")
        #expect(try await deal.globex.objects().count == 25)
        // The second reading differs from the first: the import stops at the new problem.
        var second = false
        do {
            _ = try await deal.globex.importRecords(type: "opportunity") { deliver in
                let stage = second ? "closed-lost" : "committed"
                second = true
                try deliver(ImportChunk(records: [record(2, "N1", [("title", "New")])]))
                try deliver(ImportChunk(records: [record(3, "N2", [("title", "Moved"), ("stage", stage)])]))
            }
            Issue.record("a source that changed between its readings was imported")
        } catch {
            #expect(error.message.contains("line 3 changed while it was imported"), "\(error.message)")
            #expect(error.message.contains("records written before it: 1"), "\(error.message)")
        }
    }
}
