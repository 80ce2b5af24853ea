import EntenteCore
import EntenteTestSupport
import Testing

@testable import EntenteWire

@Suite("StorageCoding")
struct StorageCodingTests {
    @Test("timestamps round-trip and their bytes sort in clock order")
    func timestampOrder() throws {
        var rng = SplitMix64(seed: 31)
        let replicas = (0..<3).map { _ in rng.replica() }
        var stamps: [Timestamp] = []
        for _ in 0..<300 {
            // Few distinct physical times and counters, so that ties fall through to the next component.
            let physical: UInt64 = rng.pick([0, 1, 255, 256, 1 << 40, UInt64.max])
            let counter: UInt32 = rng.pick([0, 1, 255, 256, UInt32.max])
            stamps.append(Timestamp(physical: physical, counter: counter, replica: rng.pick(replicas)))
        }
        for stamp in stamps {
            let encoded = StorageCoding.encode(stamp)
            #expect(encoded.count == 28)
            #expect(try StorageCoding.decodeTimestamp(encoded) == stamp)
        }
        for (left, right) in zip(stamps, stamps.dropFirst()) {
            let bytewise = StorageCoding.encode(left).lexicographicallyPrecedes(StorageCoding.encode(right))
            #expect(bytewise == (left < right), "\(left) vs \(right)")
        }
        let truncated = wireError { () throws(WireError) in
            try StorageCoding.decodeTimestamp(Array(StorageCoding.encode(stamps[0]).prefix(27)))
        }
        #expect(truncated?.code == .truncated)
    }

    @Test("values, visibilities and namespaces round-trip")
    func roundTrips() throws {
        var rng = SplitMix64(seed: 32)
        let companies = (0..<4).map { _ in rng.company() }
        for _ in 0..<200 {
            let value = rng.value()
            #expect(try StorageCoding.decodeValue(StorageCoding.encode(value)) == value)
            let visibility = rng.visibility(companies)
            #expect(try StorageCoding.decodeVisibility(StorageCoding.encode(visibility)) == visibility)
        }
        for namespace in [Namespace.joint] + companies.map(Namespace.company) {
            #expect(try StorageCoding.decodeNamespace(StorageCoding.encode(namespace)) == namespace)
        }
    }

    @Test("corrupt stored bytes throw instead of trapping")
    func corrupt() {
        #expect(wireError { () throws(WireError) in try StorageCoding.decodeVisibility([]) }?.code == .truncated)
        #expect(wireError { () throws(WireError) in try StorageCoding.decodeVisibility([9]) }?.code == .malformed)
        #expect(wireError { () throws(WireError) in try StorageCoding.decodeValue([]) }?.code == .truncated)
        #expect(wireError { () throws(WireError) in try StorageCoding.decodeValue([0x0A]) }?.code == .malformed)  // unknown kind
        #expect(wireError { () throws(WireError) in try StorageCoding.decodeValue([0x07]) }?.code == .truncated)  // timestamp, no payload
        #expect(wireError { () throws(WireError) in try StorageCoding.decodeValue([0x00, 0x00]) }?.code == .malformed)  // trailing byte
        #expect(wireError { () throws(WireError) in try StorageCoding.decodeNamespace([1, 2, 3]) }?.code == .malformed)
    }

    // MARK: field and set element states

    /// A field state grown by merging random writes, each naming some of the heads it had seen (as a replica
    /// that had received them would), so that it has conflicts and superseded marks.
    func randomField(
        _ rng: inout SplitMix64,
        replicas: [ReplicaID],
        companies: [CompanyID],
        writes: Int
    ) -> FieldState {
        var physical: UInt64 = 1_000
        func write(preds: [Timestamp]) -> Register {
            physical += UInt64(rng.int(1...2))  // distinct timestamps: an honest replica never reuses one
            let stamp = Timestamp(physical: physical, counter: UInt32(rng.int(0...3)), replica: rng.pick(replicas))
            return Register(
                value: rng.value(),
                timestamp: stamp,
                visibility: rng.visibility(companies),
                writer: rng.pick(companies),
                preds: preds
            )
        }
        var field = FieldState(write(preds: []))
        for _ in 1..<writes {
            let seen = field.heads.map(\.timestamp).filter { _ in rng.chance(50) }
            field.merge(write(preds: seen))
        }
        return field
    }

    /// The stored form: the winner's columns hold no predecessors; `extra` holds the rest.
    private func columns(_ field: FieldState) -> Register {
        var winner = field.winner
        winner.preds = []
        return winner
    }

    @Test("field states round-trip through the winner's columns and the extra bytes", arguments: [UInt64(41), 42, 43])
    func fieldRoundTrip(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let replicas = (0..<4).map { _ in rng.replica() }
        let companies = (0..<3).map { _ in rng.company() }
        var sawConflict = false
        var sawSuperseded = false
        for _ in 0..<200 {
            let field = randomField(&rng, replicas: replicas, companies: companies, writes: rng.int(1...8))
            sawConflict = sawConflict || field.heads.count > 1
            sawSuperseded = sawSuperseded || !field.superseded.isEmpty
            let extra = StorageCoding.encodeExtra(field)
            let decoded = try StorageCoding.decodeField(winner: columns(field), extra: extra)
            #expect(decoded == field)
            #expect(StorageCoding.encodeExtra(decoded) == extra)
        }
        // The generator must reach the interesting cases, or the test proves little.
        #expect(sawConflict && sawSuperseded)
    }

    @Test("a plain field (one write, no predecessors) stores no extra bytes")
    func plainFieldHasNoExtra() throws {
        var rng = SplitMix64(seed: 44)
        let write = Register(
            value: .string("x"),
            timestamp: rng.timestamp(),
            visibility: .participants,
            writer: rng.company()
        )
        let field = FieldState(write)
        #expect(StorageCoding.encodeExtra(field).isEmpty)
        #expect(try StorageCoding.decodeField(winner: write, extra: []) == field)
        // One predecessor makes it non-plain: the winner's predecessors and the superseded mark must be kept.
        var successor = write
        successor.timestamp.physical &+= 1
        successor.preds = [write.timestamp]
        let second = FieldState(successor)
        #expect(!StorageCoding.encodeExtra(second).isEmpty)
        let decoded = try StorageCoding.decodeField(winner: columns(second), extra: StorageCoding.encodeExtra(second))
        #expect(decoded == second)
        #expect(decoded.winner.preds == [write.timestamp])
        #expect(decoded.superseded == [write.timestamp])
    }

    @Test("a conflicted field keeps both heads, winner first, and its superseded marks")
    func conflictedField() throws {
        var rng = SplitMix64(seed: 45)
        let (a, b, c) = (rng.replica(), rng.replica(), rng.replica())
        let (x, y) = (rng.company(), rng.company())
        let first = Register(
            value: .integer(1),
            timestamp: Timestamp(physical: 10, counter: 0, replica: a),
            visibility: .participants,
            writer: x
        )
        let left = Register(
            value: .integer(2),
            timestamp: Timestamp(physical: 11, counter: 0, replica: b),
            visibility: .participants,
            writer: y,
            preds: [first.timestamp]
        )
        let right = Register(
            value: .money(Money("5 USD")!),
            timestamp: Timestamp(physical: 12, counter: 0, replica: c),
            visibility: .companies([x]),
            writer: x,
            preds: [first.timestamp]
        )
        var field = FieldState(first)
        field.merge(left)
        field.merge(right)
        #expect(field.heads == [right, left])
        #expect(field.superseded == [first.timestamp])
        let decoded = try StorageCoding.decodeField(winner: columns(field), extra: StorageCoding.encodeExtra(field))
        #expect(decoded == field)
        #expect(decoded.winner == right)
        #expect(Array(decoded.conflicts) == [left])
    }

    @Test("stored field extras with trailing bytes, another version, or cut short are refused")
    func corruptFieldExtra() throws {
        var rng = SplitMix64(seed: 46)
        let replicas = (0..<3).map { _ in rng.replica() }
        let companies = (0..<3).map { _ in rng.company() }
        var checked = 0
        for _ in 0..<40 {
            let field = randomField(&rng, replicas: replicas, companies: companies, writes: rng.int(2...6))
            let extra = StorageCoding.encodeExtra(field)
            guard !extra.isEmpty else { continue }
            checked += 1
            let winner = columns(field)
            for garbage in [[UInt8]([0x00]), [0xFF, 0x01]] {
                let error = wireError { () throws(WireError) in
                    try StorageCoding.decodeField(winner: winner, extra: extra + garbage)
                }
                #expect(error?.code == .malformed)
            }
            var otherVersion = extra
            otherVersion[0] = 2
            #expect(
                wireError { () throws(WireError) in try StorageCoding.decodeField(winner: winner, extra: otherVersion)
                }?.code == .malformed
            )
            // Every non-empty strict prefix is refused (the empty one means "plain field").
            for length in 1..<extra.count {
                let prefix = Array(extra[..<length])
                #expect(
                    wireError { () throws(WireError) in try StorageCoding.decodeField(winner: winner, extra: prefix) }
                        != nil,
                    "prefix \(length)"
                )
            }
        }
        #expect(checked > 10)
    }

    private func randomElement(_ rng: inout SplitMix64, replicas: [ReplicaID], companies: [CompanyID]) -> ElementState {
        var adds: [ReplicaID: ElementMark] = [:]
        var removes: [ReplicaID: Timestamp] = [:]
        for replica in replicas where rng.chance(70) {
            let stamp = Timestamp(
                physical: UInt64(rng.int(1...1_000)),
                counter: UInt32(rng.int(0...2)),
                replica: replica
            )
            adds[replica] = ElementMark(timestamp: stamp, writer: rng.pick(companies))
            if rng.chance(50) {
                // A remove observed this add, or an older one of the same replica.
                removes[replica] =
                    rng.chance(50) ? stamp : Timestamp(physical: stamp.physical - 1, counter: 0, replica: replica)
            }
        }
        return ElementState(adds: adds, removes: removes)
    }

    @Test("set element states round-trip, present or removed", arguments: [UInt64(51), 52])
    func elementRoundTrip(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let replicas = (0..<5).map { _ in rng.replica() }
        let companies = (0..<3).map { _ in rng.company() }
        var present = 0
        var removed = 0
        for _ in 0..<300 {
            let element = randomElement(&rng, replicas: replicas, companies: companies)
            if element.isPresent { present += 1 } else if !element.adds.isEmpty { removed += 1 }
            let bytes = StorageCoding.encode(element)
            let decoded = try StorageCoding.decodeElement(bytes)
            #expect(decoded == element)
            #expect(decoded.isPresent == element.isPresent)
            #expect(StorageCoding.encode(decoded) == bytes)
        }
        #expect(present > 0 && removed > 0)
    }

    @Test("stored set elements with trailing bytes or cut short are refused")
    func corruptElement() throws {
        var rng = SplitMix64(seed: 53)
        let replicas = (0..<4).map { _ in rng.replica() }
        let companies = (0..<2).map { _ in rng.company() }
        #expect(try StorageCoding.decodeElement([0x00, 0x00]) == ElementState())
        #expect(wireError { () throws(WireError) in try StorageCoding.decodeElement([]) }?.code == .truncated)
        for _ in 0..<30 {
            let bytes = StorageCoding.encode(randomElement(&rng, replicas: replicas, companies: companies))
            for garbage in [[UInt8]([0x00]), [0x01, 0x02, 0x03]] {
                #expect(
                    wireError { () throws(WireError) in try StorageCoding.decodeElement(bytes + garbage) }?.code
                        == .malformed
                )
            }
            for length in 0..<bytes.count {
                let prefix = Array(bytes[..<length])
                #expect(
                    wireError { () throws(WireError) in try StorageCoding.decodeElement(prefix) }?.code == .truncated,
                    "prefix \(length)"
                )
            }
        }
    }

    /// Each write names only its one predecessor (well within the wire's limit of 64), but the field state
    /// keeps one superseded mark per replica: after 66 replicas took turns, it holds 65 marks.
    @Test(
        "a field written in turn by more than 64 replicas can be stored and loaded back"
    )
    func manyReplicasField() throws {
        var rng = SplitMix64(seed: 47)
        let company = rng.company()
        var previous = Register(
            value: .integer(0),
            timestamp: Timestamp(physical: 1, counter: 0, replica: rng.replica()),
            visibility: .participants,
            writer: company
        )
        var field = FieldState(previous)
        for index in 1...65 {
            let next = Register(
                value: .integer(Int64(index)),
                timestamp: Timestamp(physical: UInt64(index + 1), counter: 0, replica: rng.replica()),
                visibility: .participants,
                writer: company,
                preds: [previous.timestamp]
            )
            field.merge(next)
            previous = next
        }
        #expect(field.heads.count == 1)
        #expect(field.superseded.count == 65)
        #expect(try StorageCoding.decodeField(winner: columns(field), extra: StorageCoding.encodeExtra(field)) == field)
    }

    @Test(
        "a set element removed after adds by more than 64 replicas can be stored and loaded back"
    )
    func manyReplicasElement() throws {
        var rng = SplitMix64(seed: 54)
        let company = rng.company()
        var adds: [ReplicaID: ElementMark] = [:]
        var removes: [ReplicaID: Timestamp] = [:]
        for index in 0..<65 {
            let stamp = Timestamp(physical: UInt64(index + 1), counter: 0, replica: rng.replica())
            adds[stamp.replica] = ElementMark(timestamp: stamp, writer: company)
            removes[stamp.replica] = stamp
        }
        let element = ElementState(adds: adds, removes: removes)
        #expect(!element.isPresent)
        #expect(try StorageCoding.decodeElement(StorageCoding.encode(element)) == element)
    }
}
