//! Who `keystead demo` seeds: the customers of a small product (a bakery, a bike shop, a
//! dental practice, a design studio, a tutoring service) and their people, at `demo.test`
//! (a reserved name: no mail can reach anyone). Days count from the start of the story.

/// A person of a tenant.
pub struct Person {
    pub name: &'static str,
    pub email: &'static str,
    /// Invited as an admin (else as a member).
    pub admin: bool,
    /// The day of the invitation; it is accepted the next morning.
    pub joined_on: i64,
}

pub struct Customer {
    pub name: &'static str,
    pub signed_up_on: i64,
    pub owner: Person,
    pub team: &'static [Person],
    /// Invited and not yet accepted.
    pub invited: Option<Person>,
}

const fn person(name: &'static str, email: &'static str, admin: bool, joined_on: i64) -> Person {
    Person { name, email, admin, joined_on }
}

/// The first is the one whose owner's login the demo prints; its team of three is, in
/// order, a member later made admin, a member, and a member later removed.
pub const TENANTS: [Customer; 5] = [
    Customer {
        name: "Harbor Lane Bakery",
        signed_up_on: 0,
        owner: person("Dana Whitfield", super::demo_company::OWNER_EMAIL, false, 0),
        team: &[
            person("Marco Rossi", "marco.rossi@demo.test", false, 1),
            person("Priya Shah", "priya.shah@demo.test", false, 2),
            person("Lena Fischer", "lena.fischer@demo.test", false, 14),
        ],
        invited: Some(person("Tom Becker", "tom.becker@demo.test", false, 24)),
    },
    Customer {
        name: "Fjord Cycles",
        signed_up_on: 3,
        owner: person("Erik Lund", "erik.lund@demo.test", false, 3),
        team: &[person("Sofie Berg", "sofie.berg@demo.test", false, 8)],
        invited: None,
    },
    Customer {
        name: "Greenfield Dental",
        signed_up_on: 5,
        owner: person("Amara Okafor", "amara.okafor@demo.test", false, 5),
        team: &[person("Jonas Weber", "jonas.weber@demo.test", true, 10)],
        invited: None,
    },
    Customer {
        name: "Copperleaf Studio",
        signed_up_on: 7,
        owner: person("Hana Sato", "hana.sato@demo.test", false, 7),
        team: &[],
        invited: None,
    },
    Customer {
        name: "Bluebird Tutoring",
        signed_up_on: 9,
        owner: person("Luis Moreno", "luis.moreno@demo.test", false, 9),
        team: &[],
        invited: None,
    },
];
