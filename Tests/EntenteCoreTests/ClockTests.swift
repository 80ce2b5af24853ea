import EntenteCore
import Testing

@Suite struct ClockTests {
    let replica = ReplicaID(raw: ID128(high: 1, low: 2))

    @Test func ticksIncreaseEvenWhenTimeGoesBackwards() {
        var clock = HybridClock(replica: replica)
        var last = clock.tick(now: 5_000)
        for now: UInt64 in [5_000, 4_000, 0, 5_001, 3, 10_000, 9_999] {
            let next = clock.tick(now: now)
            #expect(next > last, "tick at \(now) gave \(next), not after \(last)")
            last = next
        }
        #expect(last.physical == 10_000)
    }

    @Test func observedTimestampsAreOvertaken() {
        var clock = HybridClock(replica: replica)
        let remote = Timestamp(physical: 90_000, counter: 7, replica: ReplicaID(raw: ID128(high: 9, low: 9)))
        clock.observe(remote)
        let next = clock.tick(now: 1_000)
        #expect(next > remote)
        #expect(next.physical == 90_000 && next.counter == 8)
    }

    @Test func futureTimestampsBeyondTheBoundAreRefused() throws {
        let clock = HybridClock(replica: replica, maxDrift: 600_000)
        let now: UInt64 = 1_000_000
        try clock.check(Timestamp(physical: now + 600_000, counter: 0, replica: replica), now: now)
        #expect(throws: ClockError.self) {
            try clock.check(Timestamp(physical: now + 600_001, counter: 0, replica: replica), now: now)
        }
        try clock.check(Timestamp(physical: 0, counter: 0, replica: replica), now: now)
    }

    @Test func counterOverflowMovesPhysicalTimeForward() {
        var clock = HybridClock(replica: replica, physical: 10, counter: UInt32.max)
        let next = clock.tick(now: 10)
        #expect(next.physical == 11 && next.counter == 0)
    }

    @Test func timestampsOrderByPhysicalThenCounterThenReplica() {
        let low = ReplicaID(raw: ID128(high: 0, low: 1))
        let high = ReplicaID(raw: ID128(high: 0, low: 2))
        #expect(Timestamp(physical: 1, counter: 9, replica: high) < Timestamp(physical: 2, counter: 0, replica: low))
        #expect(Timestamp(physical: 2, counter: 1, replica: high) < Timestamp(physical: 2, counter: 2, replica: low))
        #expect(Timestamp(physical: 2, counter: 2, replica: low) < Timestamp(physical: 2, counter: 2, replica: high))
    }

    @Test func idsRoundTripThroughBytesAndHex() throws {
        let id = ObjectID(raw: ID128(high: 0x0102_0304_0506_0708, low: 0x090A_0B0C_0D0E_0F10))
        #expect(id.hex == "0102030405060708090a0b0c0d0e0f10")
        #expect(ObjectID(bytes: id.bytes) == id)
        #expect(ObjectID(hex: id.hex.uppercased()) == id)
        #expect(ObjectID(hex: "0102") == nil)
        #expect(ObjectID(hex: String(repeating: "g", count: 32)) == nil)
        #expect(ObjectID(bytes: [UInt8](repeating: 0, count: 15)) == nil)
    }
}
