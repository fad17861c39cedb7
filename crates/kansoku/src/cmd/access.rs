//! `kansoku operator` and `kansoku token`: who may log in to `kansoku serve`, and the API
//! tokens that let an owner fetch its own hosts (kansoku-web's `auth` module stores both in
//! the store directory).

use std::io::BufRead;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use kansoku_analyse::owners::PrefixOwners;

#[derive(Args, Debug)]
pub struct OperatorArgs {
    #[command(subcommand)]
    pub action: OperatorAction,
}

#[derive(Subcommand, Debug)]
pub enum OperatorAction {
    /// Add an operator, or set an existing operator's password. The password (at least 12
    /// characters) is read from the first line of standard input, so it stays out of the
    /// shell history and the process list.
    Add {
        /// Store directory.
        #[arg(long)]
        store: PathBuf,
        /// The operator's login name.
        name: String,
    },
    /// Remove an operator. Their sessions end at their next request.
    Remove {
        /// Store directory.
        #[arg(long)]
        store: PathBuf,
        /// The operator's login name.
        name: String,
    },
    /// List the operators' login names.
    List {
        /// Store directory.
        #[arg(long)]
        store: PathBuf,
    },
}

#[derive(Args, Debug)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub action: TokenAction,
}

#[derive(Subcommand, Debug)]
pub enum TokenAction {
    /// Create an API token for an owner of a prefixes file and print it (it is stored only
    /// as a hash: keep the printed token). The token sees that owner's prefixes only.
    Add {
        /// Store directory.
        #[arg(long)]
        store: PathBuf,
        /// The owner, as named in the prefixes file.
        #[arg(long)]
        owner: String,
        /// CSV `prefix,owner,contact` (the file of `kansoku owners --prefixes`).
        #[arg(long, value_name = "FILE.csv")]
        prefixes: PathBuf,
    },
    /// Revoke every token of an owner (tokens are stored hashed, so they are revoked by
    /// owner; issue a new one with `add`). Takes effect at the next request.
    Revoke {
        /// Store directory.
        #[arg(long)]
        store: PathBuf,
        /// The owner whose tokens stop working.
        #[arg(long)]
        owner: String,
    },
    /// List the owners that hold tokens, with how many each (tab-separated).
    List {
        /// Store directory.
        #[arg(long)]
        store: PathBuf,
    },
}

fn web(e: kansoku_web::WebError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

pub fn operator(args: OperatorArgs) -> Result<bool> {
    match args.action {
        OperatorAction::Add { store, name } => {
            kansoku_store::Store::open(&store)?;
            let mut password = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut password)
                .context("reading the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']);
            kansoku_web::auth::set_operator(&store, &name, password).map_err(web)?;
            eprintln!("operator `{name}` can log in at /login");
        }
        OperatorAction::Remove { store, name } => {
            kansoku_store::Store::open(&store)?;
            if !kansoku_web::auth::remove_operator(&store, &name).map_err(web)? {
                bail!("{}: no operator named `{name}`", store.display());
            }
            eprintln!("operator `{name}` removed; their sessions end at their next request");
        }
        OperatorAction::List { store } => {
            kansoku_store::Store::open(&store)?;
            for account in kansoku_web::auth::operators(&store).map_err(web)? {
                println!("{}", account.name);
            }
        }
    }
    Ok(true)
}

pub fn token(args: TokenArgs) -> Result<bool> {
    match args.action {
        TokenAction::Add {
            store,
            owner,
            prefixes,
        } => {
            kansoku_store::Store::open(&store)?;
            let owners = PrefixOwners::load(&prefixes)?;
            let Some(entry) = owners.owners().iter().find(|o| o.name == owner) else {
                bail!("{}: no owner named `{owner}`", prefixes.display());
            };
            let list = entry.prefixes.iter().map(ToString::to_string).collect();
            let token =
                kansoku_web::auth::add_owner_token(&store, &owner, list, entry.contact.clone())
                    .map_err(web)?;
            println!("{token}");
            eprintln!(
                "token for `{owner}` ({} prefixes): send it as `Authorization: Bearer TOKEN` \
                 to /api/v1/owner/hosts",
                entry.prefixes.len()
            );
        }
        TokenAction::Revoke { store, owner } => {
            kansoku_store::Store::open(&store)?;
            let revoked = kansoku_web::auth::revoke_owner_tokens(&store, &owner).map_err(web)?;
            if revoked == 0 {
                bail!("{}: no token for an owner named `{owner}`", store.display());
            }
            eprintln!("{revoked} token(s) of `{owner}` revoked");
        }
        TokenAction::List { store } => {
            kansoku_store::Store::open(&store)?;
            let mut owners = std::collections::BTreeMap::<String, usize>::new();
            for token in kansoku_web::auth::owner_tokens(&store).map_err(web)? {
                *owners.entry(token.owner).or_default() += 1;
            }
            for (owner, tokens) in owners {
                println!("{owner}\t{tokens}");
            }
        }
    }
    Ok(true)
}
