import EntenteCore
import EntenteStore
import EntenteTestSupport
import EntenteWire
import Testing

@Suite("Store: companies")
struct StoreCompanyTests {
    @Test("saved companies come back with their cards, self first then by name")
    func roundTrip() throws {
        var rng = SplitMix64(seed: 21)
        let me = try TestCompany(&rng)
        let alpha = try TestCompany(&rng)
        let beta = try TestCompany(&rng)
        let unknown = try TestCompany(&rng)
        let cards = [
            (beta.card(name: "Beta GmbH", address: "beta.example:7440"), false),
            (me.card(name: "Zeta Corp"), true),
            (alpha.card(name: "Alpha Ltd"), false),
        ]
        try withTemporaryDirectory { directory in
            let path = directory.path("companies.sqlite")
            do {
                let store = try Store.open(path: path)
                try store.write { tx in for (card, isSelf) in cards { try tx.saveCompany(card, isSelf: isSelf) } }
            }
            let store = try Store.open(path: path)
            let companies = try store.read { tx in try tx.companies() }
            #expect(companies.map(\.name) == ["Zeta Corp", "Alpha Ltd", "Beta GmbH"])
            #expect(companies.map(\.isSelf) == [true, false, false])
            #expect(companies.map(\.id) == [me.id, alpha.id, beta.id])

            let stored = try #require(try store.read { tx in try tx.company(beta.id) })
            #expect(stored.card == cards[0].0)
            #expect(stored.card.address == "beta.example:7440")
            #expect(stored.isSelf == false)
            #expect(try store.read { tx in try tx.company(me.id) }?.isSelf == true)
            #expect(try store.read { tx in try tx.company(unknown.id) } == nil)
        }
    }

    @Test("saving a newer card for a known company updates it in place")
    func update() throws {
        var rng = SplitMix64(seed: 22)
        let alpha = try TestCompany(&rng)
        try withStore { store, _ in
            try store.write { tx in try tx.saveCompany(alpha.card(name: "Alpha"), isSelf: false) }
            let renamed = alpha.card(name: "Alpha Two", address: "alpha.example:1")
            try store.write { tx in try tx.saveCompany(renamed, isSelf: false) }
            let companies = try store.read { tx in try tx.companies() }
            #expect(companies.count == 1)
            #expect(companies.first?.card == renamed)
            #expect(companies.first?.name == "Alpha Two")
        }
    }
}
