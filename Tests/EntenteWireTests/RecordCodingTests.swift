import EntenteCore
import EntenteTestSupport
import Testing

@testable import EntenteWire

@Suite("RecordCoding")
struct RecordCodingTests {
    /// Random fields of one object: keys in the joint namespace and in the companies' own, states with
    /// conflicts, predecessors and superseded marks (the generator of `StorageCodingTests`).
    func randomFields(
        _ rng: inout SplitMix64,
        count: Int,
        replicas: [ReplicaID],
        companies: [CompanyID]
    ) -> [FieldKey: FieldState] {
        var fields: [FieldKey: FieldState] = [:]
        while fields.count < count {
            let namespace: Namespace = rng.chance(70) ? .joint : .company(rng.pick(companies))
            let key = FieldKey(namespace, rng.chance(10) ? rng.text(scalars: rng.int(1...30)) : "field_\(rng.int(0...40))")
            fields[key] = StorageCodingTests().randomField(
                &rng,
                replicas: replicas,
                companies: companies,
                writes: rng.int(1...4)
            )
        }
        return fields
    }

    @Test("records round-trip whole, and any subset of their fields decodes alone", arguments: [UInt64(61), 62, 63])
    func roundTrip(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let replicas = (0..<4).map { _ in rng.replica() }
        let companies = (0..<3).map { _ in rng.company() }
        var sawConflicted = false
        var sawPlain = false
        for _ in 0..<100 {
            let fields = randomFields(&rng, count: rng.int(0...25), replicas: replicas, companies: companies)
            let record = try RecordCoding.encode(fields.map { ($0.key, $0.value) }, onto: nil)
            #expect(try RecordCoding.decode(record.bytes) == fields)
            let conflicted = fields.values.contains { $0.heads.count > 1 }
            #expect(record.conflicted == conflicted)
            sawConflicted = sawConflicted || conflicted
            sawPlain = sawPlain || !conflicted
            let wanted = Set(fields.keys.filter { _ in rng.chance(30) } + [FieldKey(.joint, "absent")])
            #expect(try RecordCoding.decode(record.bytes, wanted: wanted) == fields.filter { wanted.contains($0.key) })
            // Encoding is deterministic: the same fields in another order give the same bytes.
            #expect(try RecordCoding.encode(fields.map { ($0.key, $0.value) }.reversed(), onto: nil).bytes == record.bytes)
        }
        #expect(sawConflicted && sawPlain)
    }

    @Test("a save rewrites the changed entries and copies the others byte for byte", arguments: [UInt64(64), 65])
    func spliceKeepsOtherEntries(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let replicas = (0..<3).map { _ in rng.replica() }
        let companies = (0..<3).map { _ in rng.company() }
        for _ in 0..<100 {
            let fields = randomFields(&rng, count: rng.int(1...20), replicas: replicas, companies: companies)
            let old = try RecordCoding.encode(fields.map { ($0.key, $0.value) }, onto: nil).bytes
            // Some fields change, some are new (written by replicas and companies the record has not seen yet).
            let strangers = (0..<2).map { _ in rng.replica() }
            let newcomers = [rng.company()]
            var changes = fields.filter { _ in rng.chance(25) }.mapValues { _ in
                StorageCodingTests().randomField(&rng, replicas: strangers, companies: newcomers, writes: rng.int(1...3))
            }
            for (key, state) in randomFields(&rng, count: rng.int(0...3), replicas: strangers, companies: newcomers) {
                changes[key] = state
            }
            let spliced = try RecordCoding.encode(changes.map { ($0.key, $0.value) }, onto: old)
            let expected = fields.merging(changes) { _, new in new }
            #expect(try RecordCoding.decode(spliced.bytes) == expected)
            #expect(spliced.conflicted == expected.values.contains { $0.heads.count > 1 })
            let before = try RecordCoding.layout(old)
            let after = try RecordCoding.layout(spliced.bytes)
            let keys = after.entries.map(after.key(of:))
            #expect(keys.prefix(before.entries.count) == before.entries.map(before.key(of:))[...])
            for entry in before.entries where changes[before.key(of: entry)] == nil {
                let copy = try #require(after.entries.first { after.key(of: $0) == before.key(of: entry) })
                #expect(spliced.bytes[copy.bytes] == old[entry.bytes])
            }
        }
    }

    @Test("ids are written once per record: twenty fields by one replica take a few bytes each besides their values")
    func idsAreWrittenOnce() throws {
        var rng = SplitMix64(seed: 66)
        let replica = rng.replica()
        let company = rng.company()
        var fields: [(key: FieldKey, state: FieldState)] = []
        var valueBytes = 0
        for index in 0..<20 {
            let value = Value.string("value \(index)")
            valueBytes += StorageCoding.encode(value).count
            let stamp = Timestamp(physical: 1_790_000_000_000 + UInt64(index), counter: 0, replica: replica)
            fields.append(
                (
                    FieldKey(index == 19 ? .company(company) : .joint, "field_\(index)"),
                    FieldState(Register(value: value, timestamp: stamp, visibility: .participants, writer: company))
                )
            )
        }
        let record = try RecordCoding.encode(fields, onto: nil).bytes
        let layout = try RecordCoding.layout(record)
        #expect(layout.ids == [replica.raw, company.raw])
        let names = fields.reduce(0) { $0 + $1.key.name.utf8.count }
        // Per field: head, name length, payload length, stamp (7 + 1 + 1), visibility, writer, three empty lists.
        #expect(record.count <= 2 + 2 * 16 + valueBytes + names + 20 * 16)
    }

    @Test("corrupt records throw instead of trapping: cut short, unknown version, ids or lengths out of range")
    func corruptRecords() throws {
        var rng = SplitMix64(seed: 67)
        let replicas = (0..<2).map { _ in rng.replica() }
        let companies = (0..<2).map { _ in rng.company() }
        let fields = randomFields(&rng, count: 6, replicas: replicas, companies: companies)
        let record = try RecordCoding.encode(fields.map { ($0.key, $0.value) }, onto: nil).bytes
        let layout = try RecordCoding.layout(record)
        let ends = Set(layout.entries.map(\.bytes.upperBound))
        for length in 0..<record.count where !ends.contains(length) && length != 1 + 1 + 16 * layout.ids.count {
            #expect(wireError { () throws(WireError) in try RecordCoding.decode(Array(record.prefix(length))) } != nil)
        }
        var version = record
        version[0] = 9
        #expect(wireError { () throws(WireError) in try RecordCoding.decode(version) }?.message.contains("version") == true)
        // The first entry's head names a company beyond the id table.
        var namespace = Array(record.prefix(2 + 16 * layout.ids.count))
        namespace += [UInt8(2 * (layout.ids.count + 1)), 1, 0x61, 0]
        #expect(wireError { () throws(WireError) in try RecordCoding.decode(namespace) }?.message.contains("namespace") == true)
        // A payload length that does not match its contents.
        let first = try #require(layout.entries.first)
        var longer = Array(record[..<first.bytes.upperBound])
        longer.insert(0, at: first.bytes.upperBound)
        let lengthIndex = first.payload - 1
        longer[lengthIndex] += 1
        #expect(wireError { () throws(WireError) in try RecordCoding.decode(longer) } != nil)
    }
}
