import EntenteCore
import EntenteCrypto
import EntenteTestSupport
import Testing

@testable import EntenteWire

/// Batch version 3 (`Specs/envelope.md`, "Version 3"): front-coded strings, a slot table of field keys and
/// visibilities, and objects named by their creation stamps.
@Suite("OperationCodec: version 3 (slots, stamped objects)")
struct SlotBatchTests {
    static let owner = CompanyID(raw: ID128(high: 0x1111_1111_1111_1111, low: 0x1111_1111_1111_1111))
    static let replica = ReplicaID(raw: ID128(high: 0xAAAA_AAAA_AAAA_AAAA, low: 0xAAAA_AAAA_AAAA_AAAA))
    static let other = ObjectID(raw: ID128(high: 0x0102_0304_0506_0708, low: 0x090A_0B0C_0D0E_0F10))

    static func stamp(_ physical: UInt64, _ counter: UInt32) -> Timestamp {
        Timestamp(physical: physical, counter: counter, replica: replica)
    }

    /// Hand-assembled bytes: a create named by its stamp (no id, no nonce), a joint set and an own-namespace money
    /// set on it (next ticks, slots), then a set on an object named by a table id. Pins the string order (uses,
    /// then bytes), front coding, the slot table, both object forms and the slot-and-kind varint.
    @Test("a hand-built batch decodes, and encoding reproduces it byte for byte")
    func goldenVector() throws {
        let created = Self.stamp(1000, 0)
        let (object, nonce) = Derivation.objectID(owner: Self.owner, created: created)
        let amount = try #require(DecimalNumber(significand: 125, scale: 1))
        let operations = [
            Operation(object: object, timestamp: created, kind: .create(type: "opportunity", nonce: nonce)),
            Operation(
                object: object,
                timestamp: Self.stamp(1000, 1),
                kind: .set(FieldKey(.joint, "stage"), .string("qualified"), .participants, preds: [])
            ),
            Operation(
                object: object,
                timestamp: Self.stamp(1000, 2),
                kind: .set(
                    FieldKey(.company(Self.owner), "amount"),
                    .money(Money(amount: amount, currency: try #require(CurrencyCode("USD")))),
                    .participants,
                    preds: [Self.stamp(1000, 1)]
                )
            ),
            Operation(
                object: Self.other,
                timestamp: Self.stamp(1000, 3),
                kind: .set(FieldKey(.joint, "stage"), .string("qualified-x"), .participants, preds: [Self.stamp(999, 5)])
            ),
        ]
        var expected: [UInt8] = [0x03]  // version 3
        // Six strings, each used once: in byte order, each as (shared prefix, suffix).
        expected += [0x06]
        expected += [0x00, 0x03] + Array("USD".utf8) + [0x00, 0x06] + Array("amount".utf8)
        expected += [0x00, 0x0B] + Array("opportunity".utf8) + [0x00, 0x09] + Array("qualified".utf8)
        expected += [0x09, 0x02] + Array("-x".utf8) + [0x00, 0x05] + Array("stage".utf8)
        // Three ids: the owner and the replica (two uses each, the owner first), then the other object.
        expected += [0x03] + Self.owner.bytes + Self.replica.bytes + Self.other.bytes
        // Two slots: joint "stage" for every participant (two uses), then the owner's "amount".
        expected += [0x02, 0x00, 0x05, 0x01, 0x01, 0x00, 0x01, 0x01]
        expected += [0x04]  // four operations
        // Create: new object (stamped: new owner 0 and creator 1, creation clock +1000, +0), new replica 1, clock
        // +1000 +0, type "opportunity"; no nonce.
        expected += [0x31, 0x01, 0x00, 0x01, 0xD0, 0x0F, 0x00, 0x01, 0xD0, 0x0F, 0x00, 0x02]
        // Joint set, next tick: slot 0 with kind 1 (string), "qualified", no predecessors.
        expected += [0x43, 0x01, 0x03, 0x00]
        // Money set, next tick, own predecessor: slot 1 with kind 5, 12.5, "USD", predecessor clock +1000, +1.
        expected += [0xC3, 0x15, 0xFA, 0x01, 0x01, 0x00, 0xD0, 0x0F, 0x02]
        // Set on another object, named by id 2 (ref 4), next tick, own predecessor (999, 5): -1, +4.
        expected += [0xD3, 0x04, 0x01, 0x04, 0x01, 0x08]
        let origins = [ObjectOrigin(owner: Self.owner, created: created)]
        #expect(OperationCodec.encode(operations, origins: origins) == expected)
        #expect(try OperationCodec.decode(expected) == operations)
    }

    /// A random mix of objects named by stamps (several owners and creators) and by ids, in any order, with
    /// creates whose nonce is (or, for a few, is not) their stamp's.
    @Test("random batches with stamped and unstamped objects round-trip", arguments: [UInt64(31), 32, 33])
    func stampedRoundTrip(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        for _ in 0..<30 {
            let owners = (0..<3).map { _ in rng.company() }
            var origins: [ObjectOrigin] = []
            var pool: [(ObjectID, [UInt8]?)] = []
            for _ in 0..<rng.int(1...8) {
                if rng.chance(70) {
                    let origin = ObjectOrigin(owner: rng.pick(owners), created: rng.timestamp())
                    let derived = Derivation.objectID(owner: origin.owner, created: origin.created)
                    origins.append(origin)
                    pool.append((derived.id, derived.nonce))
                } else {
                    pool.append((rng.object(), nil))
                }
            }
            // An origin of an object the batch does not touch is ignored.
            origins.append(ObjectOrigin(owner: owners[0], created: rng.timestamp()))
            let operations = rng.operations(count: rng.int(0...40)).map { operation in
                let (object, nonce) = rng.pick(pool)
                var kind = operation.kind
                if case .create(let type, _) = kind, let nonce, rng.chance(80) { kind = .create(type: type, nonce: nonce) }
                return Operation(object: object, timestamp: operation.timestamp, kind: kind, writer: operation.writer)
            }
            let encoded = OperationCodec.encode(operations, origins: origins)
            #expect(try OperationCodec.decode(encoded) == operations)
            let plain = OperationCodec.encode(operations)
            #expect(try OperationCodec.decode(plain) == operations)
        }
    }

    /// The W2 shape at the receiving end of a CRM delta: three fields changed on each of 500 records created
    /// in sequence, each superseding the owner's earlier write.
    static func delta(records: Int) -> (operations: [Operation], origins: [ObjectOrigin]) {
        let stages = ["prospect", "qualified", "technical-validation", "business-validation", "committed"]
        var operations: [Operation] = []
        var origins: [ObjectOrigin] = []
        var counter: UInt32 = 0
        var physical: UInt64 = 1_800_000_500_000
        for record in 0..<records {
            let createdAt = UInt32(record * 230)
            let created = Timestamp(physical: 1_800_000_000_000 + UInt64(createdAt / 135), counter: createdAt % 135, replica: replica)
            origins.append(ObjectOrigin(owner: owner, created: created))
            let object = Derivation.objectID(owner: owner, created: created).id
            let r = UInt64(record) &* 0x9E37_79B9_7F4A_7C15 >> 7
            let writes: [(FieldKey, Value)] = [
                (FieldKey(.joint, "stage"), .string(stages[Int(r % 5)])),
                (FieldKey(.company(owner), "amount"), .money(Money(amount: DecimalNumber(significand: Int64(r % 9_000_000) * 100, scale: 2)!, currency: CurrencyCode("USD")!))),
                r % 2 == 0
                    ? (FieldKey(.company(owner), "probability"), .integer(Int64(r % 100)))
                    : (FieldKey(.joint, "next_step"), .string("Follow-up \(r % 1000)")),
            ]
            for (index, (key, value)) in writes.enumerated() {
                counter += 1
                if counter == 40 { (physical, counter) = (physical + 1, 0) }
                let predecessor = createdAt + 3 + UInt32(index)
                let preds = [Timestamp(physical: 1_800_000_000_000 + UInt64(predecessor / 135), counter: predecessor % 135, replica: replica)]
                operations.append(
                    Operation(
                        object: object,
                        timestamp: Timestamp(physical: physical, counter: counter, replica: replica),
                        kind: .set(key, value, .participants, preds: preds)
                    )
                )
            }
        }
        return (operations, origins)
    }

    @Test("a CRM delta of three fields on 500 records takes under 10 bytes a field, half of version 2")
    func compactness() throws {
        let (operations, origins) = Self.delta(records: 500)
        let stamped = OperationCodec.encode(operations, origins: origins)
        let unstamped = OperationCodec.encode(operations)
        let version2 = OperationCodec.encode(operations, version: 2)
        let perField = Double(stamped.count) / Double(operations.count)
        #expect(perField < 10, "\(perField) bytes per changed field")
        #expect(stamped.count * 2 < version2.count, "version 3: \(stamped.count) bytes, version 2: \(version2.count)")
        // Without origins, ids name the objects: still smaller than version 2 (slots, front coding).
        #expect(stamped.count + 500 * 12 < unstamped.count && unstamped.count < version2.count)
        #expect(try OperationCodec.decode(stamped) == operations)
    }

    @Test("slots and objects outside their tables, a stamp without an owner, and an unknown value kind are malformed")
    func hostileReferences() throws {
        let created = Self.stamp(5, 0)
        let object = Derivation.objectID(owner: Self.owner, created: created).id
        let operation = Operation(
            object: object,
            timestamp: Self.stamp(5, 1),
            kind: .set(FieldKey(.joint, "stage"), .enumeration("won"), .participants, preds: [])
        )
        let good = OperationCodec.encode([operation], origins: [ObjectOrigin(owner: Self.owner, created: created)])
        // version, 2 strings ("stage", "won"), 2 ids (the replica, used twice, then the owner), 1 slot, count,
        // then: head, object (stamped: 1, owner 1, creator 0, clock 0A 00), replica 0, clock (0A 02), slot 0 with
        // kind 8, value ref 1, no predecessors.
        let head = 1 + 1 + 7 + 5 + 1 + 32 + 4 + 1
        #expect(Array(good[head...]) == [0x33, 0x01, 0x01, 0x00, 0x0A, 0x00, 0x00, 0x0A, 0x02, 0x08, 0x01, 0x00])
        func decoding(_ change: (inout [UInt8]) -> Void) -> WireError? {
            var bytes = good
            change(&bytes)
            return wireError { () throws(WireError) in try OperationCodec.decode(bytes) }
        }
        #expect(try OperationCodec.decode(good) == [operation])
        #expect(decoding { $0[head + 9] = 0x18 }?.message.contains("field slot 1 is outside a table of 1") == true)
        #expect(decoding { $0[head + 9] = 0x0A }?.message.contains("unknown value kind 10") == true)
        #expect(decoding { $0[head + 1] = 0x00 }?.message.contains("first stamped object does not name its owner") == true)
        #expect(decoding { $0[head + 1] = 0x04 }?.message.contains("object refers to id 2 of a table of 2") == true)
        // A different creation clock names a different object: still a valid batch, for another object.
        let moved = try #require(try? OperationCodec.decode(good.enumerated().map { $0.offset == head + 5 ? 0x02 : $0.element }))
        #expect(moved.first?.object == Derivation.objectID(owner: Self.owner, created: Self.stamp(5, 1)).id)
    }

    @Test("a string sharing more than its predecessor, invalid UTF-8 after joining, and a table that expands too far are refused")
    func hostileStrings() throws {
        // version 3, 2 strings: "abc", then one sharing 4 bytes of it.
        #expect(
            wireError { () throws(WireError) in try OperationCodec.decode([0x03, 0x02, 0x00, 0x03, 0x61, 0x62, 0x63, 0x04, 0x00, 0x00, 0x00, 0x00]) }?
                .message.contains("shares 4 bytes with one of 3") == true
        )
        // "\u{E9}" (C3 A9), then one sharing its first byte alone: C3 followed by "x" is not UTF-8.
        #expect(
            wireError { () throws(WireError) in try OperationCodec.decode([0x03, 0x02, 0x00, 0x02, 0xC3, 0xA9, 0x01, 0x01, 0x78, 0x00, 0x00, 0x00]) }?
                .message.contains("not valid UTF-8") == true
        )
        // Sharing within a character is fine when the result is valid: "\u{E9}" then "\u{E9}" shared in full.
        #expect(try OperationCodec.decode([0x03, 0x02, 0x00, 0x02, 0xC3, 0xA9, 0x01, 0x01, 0xA9, 0x00, 0x00, 0x00]) == [])
        // One 100,000-byte string, then 100 entries of three bytes each repeating it: 10 MB from 100 kB.
        var bomb = ByteWriter()
        bomb.writeVarint(3)
        bomb.writeVarint(101)
        bomb.writeVarint(0)
        bomb.writeString(String(repeating: "a", count: 100_000))
        for _ in 0..<100 {
            bomb.writeVarint(100_000)
            bomb.writeVarint(0)
        }
        bomb.write([0x00, 0x00, 0x00])
        let error = wireError { () throws(WireError) in try OperationCodec.decode(bomb.bytes) }
        #expect(error?.code == .tooLarge && error?.message.contains("expands beyond") == true)
    }

    @Test("a slot count beyond the input is a truncation")
    func slotCount() {
        #expect(wireError { () throws(WireError) in try OperationCodec.decode([0x03, 0x00, 0x00, 0x05, 0x00, 0x00]) }?.code == .truncated)
    }
}
