import EntenteCore
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

        let copy = deal.root.appendingPathComponent("umbra-v5")
        try FileManager.default.copyItem(at: umbra.directory, to: copy)
        let queue = try DatabaseQueue(path: copy.appendingPathComponent("entente.sqlite").path)
        try await queue.write { db in
            try db.execute(sql: Self.layoutBeforePartSplit)
            #expect(try db.tableExists("applied_part") == false)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM envelope_part WHERE status = 1") == 1)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM envelope_part WHERE status = 0") ?? 0 > 0)
        }
        try queue.close()

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
        var initechStage = Changes()
        initechStage.joint = [FieldValue("next_step", "Call")]
        var umbraStage = Changes()
        umbraStage.joint = [FieldValue("next_step", "Demo")]
        try await deal.initech.update(id, changes: initechStage)
        try await deal.umbra.update(id, changes: umbraStage)
        try await send(deal.umbra, deal.initech)
        #expect(try await deal.initech.conflicts(id).count == 1)
        let before = try await fingerprint(deal.initech)

        // A copy of Initech's store, put back to the layout before v5.
        let copy = deal.root.appendingPathComponent("initech-v4")
        try FileManager.default.copyItem(at: deal.initech.directory, to: copy)
        let queue = try DatabaseQueue(path: copy.appendingPathComponent("entente.sqlite").path)
        try await queue.write { db in
            try db.execute(sql: Self.layoutBeforePartSplit + Self.layoutBeforeHandles)
            #expect(try db.columns(in: "object").map(\.name).contains("handle") == false)
        }
        try queue.close()

        let upgraded = try Node.open(at: copy)
        #expect(try await fingerprint(upgraded) == before)
        #expect(try await upgraded.verify().isSound)
        #expect(try await upgraded.conflicts(id).count == 1)
        // It goes on syncing: Globex's next write arrives and applies.
        var next = Changes()
        next.joint = [FieldValue("next_step", "Contract")]
        try await deal.globex.update(id, changes: next)
        try await send(deal.globex, upgraded)
        let view = try await upgraded.object(id)
        #expect(view.joint.first { $0.name == "next_step" }?.value == .string("Contract"))
        #expect(try await upgraded.verify().isSound)
    }
}
