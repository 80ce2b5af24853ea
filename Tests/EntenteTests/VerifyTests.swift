import EntenteCore
import EntenteTestSupport
import EntenteWire
import Foundation
import GRDB
import Testing

@testable import Entente

/// `Node.verify()`: sound stores verify clean; corruption planted directly in a copy of the SQLite file is found
/// and named.
@Suite struct VerifyTests {
    /// A three-company history with invitations, shared, restricted and private fields, joint sets, concurrent
    /// writes (a conflict), a removal (which rebuilds objects) and an archive, exchanged in every direction.
    static func history() async throws -> (Deal, ObjectID) {
        let deal = try await Deal.make()
        let (globex, initech, umbra) = (deal.globex, deal.initech, deal.umbra)
        var opening = Changes()
        opening.joint = [FieldValue("title", "Acme data platform")]
        opening.privateFields = [FieldValue("deal_size", "1240000")]
        let id = try await globex.create(type: "opportunity", changes: opening, with: [initech.company, umbra.company])
        let other = try await globex.create(
            type: "opportunity",
            changes: Changes(fields: [FieldValue("title", "Second")]),
            with: [initech.company]
        )
        for from in deal.all { for to in deal.all where to !== from { try await send(from, to) } }
        var initechFields = Changes()
        initechFields.shared = [FieldValue("delivery", "Initech PS")]
        initechFields.joint = [FieldValue("next_steps", "Workshop")]
        try await initech.update(id, changes: initechFields)
        var umbraFields = Changes()
        umbraFields.joint = [FieldValue("next_steps", "POC")]
        umbraFields.shared = [FieldValue("credits", "10000")]
        umbraFields.sharedWith = [initech.company]
        try await umbra.update(id, changes: umbraFields)
        _ = try await initech.updateSet(id, field: "team", joint: true, add: ["ana", "bo"])
        _ = try await umbra.updateSet(id, field: "team", joint: true, add: ["cy"], remove: [])
        try await initech.update(other, changes: Changes(fields: [FieldValue("next_steps", "Call")]))
        for _ in 0..<2 {
            for from in deal.all { for to in deal.all where to !== from { try await send(from, to) } }
        }
        try await globex.uninvite(id, umbra.company)
        try await umbra.update(id, changes: Changes(fields: [FieldValue("next_steps", "late write")]))
        try await globex.archive(other)
        for _ in 0..<2 {
            for from in deal.all { for to in deal.all where to !== from { try await send(from, to) } }
        }
        return (deal, id)
    }

    @Test func soundStoresVerifyClean() async throws {
        let (deal, _) = try await Self.history()
        defer { deal.cleanUp() }
        for node in deal.all {
            let report = try await node.verify()
            #expect(report.problems.isEmpty, "\(node.card.name): \(report.problems.map(\.description))")
            #expect(report.envelopes > 5 && report.objects >= 1 && report.sequences >= report.envelopes)
            #expect(report.parts > 0 && report.counters >= 1)
        }
    }

    /// Every node of a few seeds of the node simulation verifies clean at the end.
    ///
    /// The simulation drops, duplicates, reorders and relays envelopes, removes participants and restarts nodes. Three seeds; `make simulate` (ENTENTE_NODE_SEEDS) runs them all.
    @Test func simulatedHistoriesVerifyClean() async throws {
        var checked = 0
        let all = ProcessInfo.processInfo.environment["ENTENTE_NODE_SEEDS"] != nil
        for seed in NodeSimulationTests.seeds.prefix(all ? Int.max : 3) {
            let run = NodeSimulationTests.Run(seed: seed)
            defer { try? FileManager.default.removeItem(at: run.root) }
            try await run.setUp()
            for step in 1...60 {
                try await run.step()
                if step % 30 == 0 { try await run.quiesce() }
            }
            for (index, replica) in run.replicas.enumerated() {
                let report = try await replica.node.verify()
                #expect(
                    report.problems.isEmpty,
                    "seed \(seed), replica \(index): \(report.problems.map(\.description))"
                )
                checked += report.objects
            }
        }
        #expect(checked > 0)
    }

    /// A copy of `node`'s directory with `sql` run on its database (foreign keys off, as a damaged file would
    /// have them), then opened and verified.
    static func verifyCorrupted(
        _ node: Node,
        _ root: URL,
        _ name: String,
        _ corrupt: @escaping @Sendable (Database) throws -> Void
    ) async throws -> VerifyReport {
        let copy = root.appendingPathComponent("corrupt-\(name)")
        try FileManager.default.copyItem(at: node.directory, to: copy)
        var configuration = Configuration()
        configuration.foreignKeysEnabled = false
        let queue = try DatabaseQueue(
            path: copy.appendingPathComponent("entente.sqlite").path,
            configuration: configuration
        )
        try await queue.write { db in try corrupt(db) }
        try queue.close()
        return try await Node.open(at: copy).verify()
    }

    @Test func plantedCorruptionIsReported() async throws {
        let (deal, id) = try await Self.history()
        defer { deal.cleanUp() }
        let globex = deal.globex
        #expect(try await globex.verify().isSound)
        // Initech's first envelope that has a part for the shared object, as stored in Globex's log.
        let original = try DatabaseQueue(path: globex.databasePath)
        let target = try original.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT e.rowid, e.hash, e.bytes FROM envelope e JOIN applied_part p ON p.envelope = e.rowid
                    JOIN object o ON o.handle = p.object
                    WHERE e.origin = ? AND o.id = ? ORDER BY e.rowid LIMIT 1
                    """,
                arguments: [Data(deal.initech.company.bytes), Data(id.bytes)]
            )
        }
        try original.close()
        let row = try #require(target)
        let rowid: Int64 = row["rowid"]
        let hash = Hex.encode([UInt8](row["hash"] as Data))
        var flipped = [UInt8](row["bytes"] as Data)

        // 1. A flipped byte in the middle of the stored envelope: hash and signature no longer match.
        flipped[flipped.count / 2] ^= 0x40
        let tampered = flipped
        let byteFlip = try await Self.verifyCorrupted(globex, deal.root, "flip") { db in
            try db.execute(sql: "UPDATE envelope SET bytes = ? WHERE rowid = ?", arguments: [Data(tampered), rowid])
        }
        #expect(
            byteFlip.problems.contains { $0.area == .envelope && $0.subject == hash && $0.message.contains("hash") }
        )
        #expect(
            byteFlip.problems.contains {
                $0.area == .envelope && $0.subject == hash && $0.message.contains("signature")
            }
        )

        // 2. A deleted envelope row: its parts and sequence numbers point nowhere, and the object no longer
        //    rebuilds to its stored state.
        let deleted = try await Self.verifyCorrupted(globex, deal.root, "delete") { db in
            try db.execute(sql: "DELETE FROM envelope WHERE rowid = ?", arguments: [rowid])
        }
        #expect(deleted.problems.contains { $0.area == .sqlite && $0.subject == "foreign_key_check" })
        #expect(
            deleted.problems.contains {
                $0.area == .part && $0.subject.hasPrefix(id.hex) && $0.message.contains("does not exist")
            }
        )
        #expect(deleted.problems.contains { $0.area == .sequence && $0.message.contains("does not exist") })
        #expect(deleted.problems.contains { $0.area == .object && $0.subject == id.hex })

        // 3. A changed field value: the object differs from what its envelopes say, and the field is named.
        let changed = try await Self.verifyCorrupted(globex, deal.root, "field") { db in
            let handle = "(SELECT handle FROM object WHERE id = ?)"
            let record = try #require(
                try Data.fetchOne(db, sql: "SELECT fields FROM record WHERE object = \(handle)", arguments: [Data(id.bytes)])
            )
            let title = FieldKey(.joint, "title")
            var field = try #require(try RecordCoding.decode([UInt8](record))[title])
            field = FieldState(
                Register(
                    value: .string("Tampered"),
                    timestamp: field.winner.timestamp,
                    visibility: field.winner.visibility,
                    writer: field.winner.writer
                )
            )
            let tampered = try RecordCoding.encode([(title, field)], onto: [UInt8](record)).bytes
            try db.execute(
                sql: "UPDATE record SET fields = ? WHERE object = \(handle)",
                arguments: [Data(tampered), Data(id.bytes)]
            )
            #expect(db.changesCount == 1)
        }
        #expect(
            changed.problems.contains {
                $0.area == .object && $0.subject == id.hex && $0.message.contains("joint.title")
            },
            "\(changed.problems)"
        )

        // 3b. A CRM id lookup row the object's fields do not hold: imports would match a record to it.
        let looked = try await Self.verifyCorrupted(globex, deal.root, "crm_key") { db in
            try db.execute(
                sql: "INSERT INTO crm_key (object, namespace, value) SELECT handle, x'', x'01' FROM object WHERE id = ?",
                arguments: [Data(id.bytes)]
            )
            #expect(db.changesCount == 1)
        }
        #expect(
            looked.problems.contains { $0.area == .object && $0.subject == id.hex && $0.message.contains("crm_key") },
            "\(looked.problems)"
        )

        // 4. A duplicated sequence number: the envelope recorded a second time under another number.
        let duplicated = try await Self.verifyCorrupted(globex, deal.root, "sequence") { db in
            try db.execute(
                sql: """
                    INSERT INTO envelope_address (replica, recipient, sequence, envelope)
                    SELECT replica, recipient, sequence + 1000, envelope FROM envelope_address WHERE envelope = ? LIMIT 1
                    """,
                arguments: [rowid]
            )
        }
        #expect(duplicated.problems.contains { $0.area == .sequence && $0.message.contains("more than once") })
        #expect(duplicated.problems.contains { $0.area == .sequence && $0.message.contains("header numbers it") })

        // 5. An outgoing counter behind the sequences already used: the next write would reuse a number.
        let counter = try await Self.verifyCorrupted(globex, deal.root, "counter") { db in
            try db.execute(
                sql: "UPDATE outgoing SET last_sequence = last_sequence - 1 WHERE recipient = ?",
                arguments: [Data(deal.initech.company.bytes)]
            )
        }
        #expect(
            counter.problems.contains {
                $0.area == .counter && $0.subject.contains(deal.initech.company.hex)
                    && $0.message.contains("already used")
            }
        )

        // 6. A part's status flipped to waiting: the rebuild says it applies.
        let status = try await Self.verifyCorrupted(globex, deal.root, "status") { db in
            try db.execute(
                sql: "DELETE FROM applied_part WHERE envelope = ? AND object = (SELECT handle FROM object WHERE id = ?)",
                arguments: [rowid, Data(id.bytes)]
            )
            #expect(db.changesCount == 1)
            try db.execute(
                sql: "INSERT INTO waiting_part (envelope, object, note) VALUES (?, ?, 'planted')",
                arguments: [rowid, Data(id.bytes)]
            )
        }
        #expect(status.problems.contains { $0.area == .part && $0.message.contains("stored as waiting") })

        // 7. An object row deleted under its state rows: the rows are orphans, and the object (its envelopes
        //    still name it) is missing.
        let orphaned = try await Self.verifyCorrupted(globex, deal.root, "orphan") { db in
            try db.execute(sql: "DELETE FROM object WHERE id = ?", arguments: [Data(id.bytes)])
            #expect(db.changesCount == 1)
        }
        #expect(
            orphaned.problems.contains {
                $0.area == .object && $0.subject.hasPrefix("handle ")
                    && $0.message.contains("field rows exist for an object that has no object row")
            },
            "\(orphaned.problems)"
        )
        // Its applied parts are keyed by the lost handle: orphans too, and its envelopes touch it with no part.
        #expect(
            orphaned.problems.contains {
                $0.area == .object && $0.message.contains("applied_part rows exist for an object that has no object row")
            }
        )
        #expect(
            orphaned.problems.contains {
                $0.area == .part && $0.subject.hasPrefix(id.hex) && $0.message.contains("no part is recorded")
            }
        )

        // Every corruption was found on its own: nothing else was reported for the untouched second object.
        for report in [byteFlip, deleted, changed, duplicated, counter, status, orphaned] {
            #expect(!report.isSound && report.objects == 2)
        }
    }
}
