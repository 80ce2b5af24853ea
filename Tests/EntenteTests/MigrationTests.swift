import EntenteCore
import EntenteWire
import Foundation
import GRDB
import Testing

@testable import Entente

/// Schema migrations keep what a store holds. Each test puts a copy of a live store back to an older layout and
/// opens it: the node shows exactly what it showed before, verifies sound, and goes on syncing.
@Suite struct MigrationTests {
    /// Migration v4's layout: state rows keyed by the 16-byte object id (v5 keys them by a local handle).
    static let layoutBeforeHandles = """
        CREATE TABLE object4 (
            id BLOB PRIMARY KEY, type TEXT NOT NULL, owner BLOB NOT NULL, created BLOB NOT NULL, nonce BLOB NOT NULL,
            archived INTEGER NOT NULL DEFAULT 0, archived_stamp BLOB);
        INSERT INTO object4 SELECT id, type, owner, created, nonce, archived, archived_stamp FROM object;
        CREATE TABLE membership4 (
            object BLOB NOT NULL, company BLOB NOT NULL, stamp BLOB NOT NULL, is_member INTEGER NOT NULL,
            PRIMARY KEY (object, company, stamp)) WITHOUT ROWID;
        INSERT INTO membership4 SELECT o.id, m.company, m.stamp, m.is_member
            FROM membership m JOIN object o ON o.handle = m.object;
        CREATE TABLE field4 (
            object BLOB NOT NULL, namespace BLOB NOT NULL, name TEXT NOT NULL,
            value BLOB NOT NULL, stamp BLOB NOT NULL, visibility BLOB NOT NULL, writer BLOB NOT NULL,
            extra BLOB NOT NULL DEFAULT x'', conflicted INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (object, namespace, name)) WITHOUT ROWID;
        INSERT INTO field4 SELECT o.id, f.namespace, f.name, f.value, f.stamp, f.visibility, f.writer, f.extra,
            f.conflicted FROM field f JOIN object o ON o.handle = f.object;
        CREATE TABLE set_field4 (
            object BLOB NOT NULL, namespace BLOB NOT NULL, name TEXT NOT NULL,
            visibility BLOB NOT NULL, stamp BLOB NOT NULL,
            PRIMARY KEY (object, namespace, name)) WITHOUT ROWID;
        INSERT INTO set_field4 SELECT o.id, s.namespace, s.name, s.visibility, s.stamp
            FROM set_field s JOIN object o ON o.handle = s.object;
        CREATE TABLE set_element4 (
            object BLOB NOT NULL, namespace BLOB NOT NULL, name TEXT NOT NULL, element BLOB NOT NULL,
            state BLOB NOT NULL,
            PRIMARY KEY (object, namespace, name, element)) WITHOUT ROWID;
        INSERT INTO set_element4 SELECT o.id, e.namespace, e.name, e.element, e.state
            FROM set_element e JOIN object o ON o.handle = e.object;
        DROP TABLE object; DROP TABLE membership; DROP TABLE field; DROP TABLE set_field; DROP TABLE set_element;
        ALTER TABLE object4 RENAME TO object;
        ALTER TABLE membership4 RENAME TO membership;
        ALTER TABLE field4 RENAME TO field;
        ALTER TABLE set_field4 RENAME TO set_field;
        ALTER TABLE set_element4 RENAME TO set_element;
        CREATE INDEX object_type ON object(type, archived);
        CREATE INDEX field_conflicted ON field(conflicted) WHERE conflicted = 1;
        CREATE INDEX field_crm_id ON field(value, namespace) WHERE name = 'crm_id';
        DELETE FROM grdb_migrations WHERE identifier = 'v5';
        """

    /// Puts a store back to migration v6's layout: a row per scalar field (v7 keeps an object's fields in one
    /// record), with the partial index of `crm_id` values. Done here in Swift, since SQL cannot read a record.
    static func putBackBeforeRecords(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE field (
                    object INTEGER NOT NULL, namespace BLOB NOT NULL, name TEXT NOT NULL,
                    value BLOB NOT NULL, stamp BLOB NOT NULL, visibility BLOB NOT NULL, writer BLOB NOT NULL,
                    extra BLOB NOT NULL DEFAULT x'', conflicted INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY (object, namespace, name)) WITHOUT ROWID;
                CREATE INDEX field_conflicted ON field(conflicted) WHERE conflicted = 1;
                CREATE INDEX field_crm_id ON field(value, namespace) WHERE name = 'crm_id';
                """
        )
        for row in try Row.fetchAll(db, sql: "SELECT object, fields FROM record") {
            let object: Int64 = row[0]
            for (key, state) in try RecordCoding.decode([UInt8](row[1] as Data)) {
                let winner = state.winner
                try db.execute(
                    sql: """
                        INSERT INTO field (object, namespace, name, value, stamp, visibility, writer, extra, conflicted)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        object, Data(StorageCoding.encode(key.namespace)), key.name,
                        Data(StorageCoding.encode(winner.value)), Data(StorageCoding.encode(winner.timestamp)),
                        Data(StorageCoding.encode(winner.visibility)), Data(winner.writer.bytes),
                        Data(StorageCoding.encodeExtra(state)), !state.conflicts.isEmpty,
                    ]
                )
            }
        }
        try db.execute(sql: "DROP TABLE record; DROP TABLE crm_key; DELETE FROM grdb_migrations WHERE identifier = 'v7'")
    }

    /// A copy of `node`'s directory at `copy`, its database put back to an older layout by `putBack`.
    static func copy(of node: Node, to copy: URL, putBack: @Sendable @escaping (Database) throws -> Void) async throws -> URL {
        try FileManager.default.copyItem(at: node.directory, to: copy)
        let queue = try DatabaseQueue(path: copy.appendingPathComponent("entente.sqlite").path)
        try await queue.write(putBack)
        try queue.close()
        return copy
    }

    /// `writer`'s next write to the object reaches the upgraded node and applies; the node stays sound. Returns
    /// the object as the upgraded node then shows it.
    static func goesOnSyncing(_ upgraded: Node, from writer: Node, _ id: ObjectID) async throws -> ObjectView {
        var next = Changes()
        next.joint = [FieldValue("next_step", "Contract")]
        try await writer.update(id, changes: next)
        try await send(writer, upgraded)
        let view = try await upgraded.object(id)
        #expect(view.joint.first { $0.name == "next_step" }?.value == .string("Contract"))
        #expect(try await upgraded.verify().isSound)
        return view
    }

    /// Initech and Umbra write the object's `next_step` concurrently: whoever receives both holds a conflict.
    static func writeConcurrently(_ deal: Deal, _ id: ObjectID) async throws {
        var call = Changes()
        call.joint = [FieldValue("next_step", "Call")]
        var demo = Changes()
        demo.joint = [FieldValue("next_step", "Demo")]
        try await deal.initech.update(id, changes: call)
        try await deal.umbra.update(id, changes: demo)
    }

    @Test func aStoreFromBeforeRecordsKeepsFieldsConflictsAndCRMIds() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let partners = [deal.initech.company, deal.umbra.company]
        var changes = Changes(fields: [FieldValue("title", "Data platform"), FieldValue("amount", "120000 USD")])
        changes.privateFields = [FieldValue("crm_id", "006A"), FieldValue("margin", "12%")]
        let id = try await deal.globex.create(type: "opportunity", changes: changes, with: partners)
        try await send(deal.globex, deal.initech)
        try await send(deal.globex, deal.umbra)
        try await Self.writeConcurrently(deal, id)
        try await send(deal.umbra, deal.globex)
        try await send(deal.initech, deal.globex)
        #expect(try await deal.globex.conflicts(id).count == 1)
        let before = try await fingerprint(deal.globex)

        let copy = try await Self.copy(of: deal.globex, to: deal.root.appendingPathComponent("globex-v6")) { db in
            try Self.putBackBeforeRecords(db)
            #expect(try db.tableExists("record") == false)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM field") ?? 0 >= 5)
        }

        let upgraded = try Node.open(at: copy)
        #expect(try await fingerprint(upgraded) == before)
        #expect(try await upgraded.verify().isSound)
        #expect(try await upgraded.conflicts(id).count == 1)
        // The upgrade gave the field table's pages back: the file holds no free page.
        let pages = try DatabaseQueue(path: upgraded.databasePath)
        #expect(try await pages.read { db in try Int.fetchOne(db, sql: "PRAGMA freelist_count") } == 0)
        try pages.close()
        let company = upgraded.company
        let found = try upgraded.reading { tx in
            try tx.objectIDs(of: "opportunity", crmIDsIn: .company(company), isOneOf: ["006A", "006B"])
        }
        #expect(found == ["006A": id])
        // It goes on syncing: a later write lands in the upgraded record, next to the fields it does not touch.
        let view = try await Self.goesOnSyncing(upgraded, from: deal.initech, id)
        #expect(view.joint.first { $0.name == "title" }?.value == .string("Data platform"))
    }

    /// Migration v5's layout: one part table, keyed by envelope and object id, indexed by object id (v6 splits it
    /// into applied parts keyed by handle and waiting parts keyed by id).
    static let layoutBeforePartSplit = """
        CREATE TABLE envelope_part (
            envelope INTEGER NOT NULL REFERENCES envelope(rowid), object BLOB NOT NULL,
            status INTEGER NOT NULL, note TEXT,
            PRIMARY KEY (envelope, object)) WITHOUT ROWID;
        INSERT INTO envelope_part SELECT a.envelope, o.id, 0, NULL FROM applied_part a JOIN object o ON o.handle = a.object;
        INSERT INTO envelope_part SELECT envelope, object, 1, note FROM waiting_part;
        CREATE INDEX envelope_part_object ON envelope_part(object);
        CREATE INDEX envelope_part_waiting ON envelope_part(status) WHERE status = 1;
        DROP TABLE applied_part; DROP TABLE waiting_part;
        DELETE FROM grdb_migrations WHERE identifier = 'v6';
        """

    @Test func aStoreFromBeforeThePartSplitKeepsAppliedAndWaitingParts() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let (globex, initech, umbra) = (deal.globex, deal.initech, deal.umbra)
        let both = [initech.company, umbra.company]
        let held = try await globex.create(
            type: "opportunity",
            changes: Changes(fields: [FieldValue("title", "Held")]),
            with: both
        )
        try await send(globex, umbra)
        // A write that reaches Umbra before its object does: its part waits, keyed by the object id.
        let id = try await globex.create(type: "opportunity", changes: Changes(), with: both)
        try await send(globex, initech)
        var note = Changes()
        note.joint = [FieldValue("next_steps", "pilot")]
        try await initech.update(id, changes: note)
        try await sendOwn(initech, umbra)
        #expect(try await umbra.status().waiting.count == 1)
        let before = try await fingerprint(umbra)

        let copy = try await Self.copy(of: umbra, to: deal.root.appendingPathComponent("umbra-v5")) { db in
            try Self.putBackBeforeRecords(db)
            try db.execute(sql: Self.layoutBeforePartSplit)
            #expect(try db.tableExists("applied_part") == false)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM envelope_part WHERE status = 1") == 1)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM envelope_part WHERE status = 0") ?? 0 > 0)
        }

        let upgraded = try Node.open(at: copy)
        #expect(try await fingerprint(upgraded) == before)
        #expect(try await upgraded.verify().isSound)
        #expect(try await upgraded.history(held).count == (try await umbra.history(held)).count)
        // The waiting part applies once the object arrives.
        try await send(globex, upgraded)
        #expect(try await upgraded.status().waiting.isEmpty)
        #expect(try await upgraded.object(id).joint("next_steps")?.value == .string("pilot"))
        #expect(try await upgraded.verify().isSound)
    }

    @Test func aStoreFromBeforeHandlesKeepsEveryObjectFieldSetAndConflict() async throws {
        let deal = try await Deal.make()
        defer { deal.cleanUp() }
        let partners = [deal.initech.company, deal.umbra.company]
        var changes = Changes(fields: [FieldValue("title", "Data platform"), FieldValue("crm_id", "006A")])
        changes.privateFields = [FieldValue("margin", "12%")]
        let id = try await deal.globex.create(type: "opportunity", changes: changes, with: partners)
        let other = try await deal.globex.create(
            type: "opportunity",
            changes: Changes(fields: [FieldValue("title", "Archived one")]),
            with: [deal.initech.company]
        )
        try await deal.globex.archive(other)
        try await send(deal.globex, deal.initech)
        try await send(deal.globex, deal.umbra)
        // A joint set, and concurrent writes kept as a conflict.
        try await deal.initech.updateSet(id, field: "team", joint: true, add: ["alice", "bob"])
        try await deal.umbra.updateSet(id, field: "team", joint: true, add: ["carol"])
        try await Self.writeConcurrently(deal, id)
        try await send(deal.umbra, deal.initech)
        #expect(try await deal.initech.conflicts(id).count == 1)
        let before = try await fingerprint(deal.initech)

        // A copy of Initech's store, put back to the layout before v5.
        let copy = try await Self.copy(of: deal.initech, to: deal.root.appendingPathComponent("initech-v4")) { db in
            try Self.putBackBeforeRecords(db)
            try db.execute(sql: Self.layoutBeforePartSplit + Self.layoutBeforeHandles)
            #expect(try db.columns(in: "object").map(\.name).contains("handle") == false)
        }

        let upgraded = try Node.open(at: copy)
        #expect(try await fingerprint(upgraded) == before)
        #expect(try await upgraded.verify().isSound)
        #expect(try await upgraded.conflicts(id).count == 1)
        // It goes on syncing: Globex's next write arrives and applies.
        _ = try await Self.goesOnSyncing(upgraded, from: deal.globex, id)
    }
}
