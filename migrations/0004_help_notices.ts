// Frozen: never edit a migration that has shipped; add a new one.
// Help center (articles with full-text and trigram search, one vote per visitor) and the
// notice feed. The seed articles are data: the text members read on first install.
import { sql, type Kysely } from 'kysely';

// When the seed text was written; migrations have no clock, so it is a fixed time.
const WRITTEN_AT = '2026-11-01T00:00:00Z';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE EXTENSION IF NOT EXISTS pg_trgm`.execute(db);
  // Apostrophes are dropped before indexing so "can't", "cant" and "can’t" are one word.
  await sql`
    CREATE FUNCTION help_fold(value text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT translate(lower(value), '''’', '') $$`.execute(db);
  await sql`
    CREATE FUNCTION help_keywords(keywords text[]) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT array_to_string(keywords, ' / ') $$`.execute(db);

  await sql`
    CREATE TABLE help_articles (
      slug text PRIMARY KEY,
      title text NOT NULL,
      summary text NOT NULL,
      body text NOT NULL,
      keywords text[] NOT NULL DEFAULT '{}',
      related text[] NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      updated_by uuid,
      -- What trigram similarity compares a query with: the words people type.
      search_text text GENERATED ALWAYS AS (help_fold(title || ' / ' || help_keywords(keywords))) STORED,
      -- Title outranks keywords, which outrank the summary and then the body.
      search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', help_fold(title)), 'A') ||
        setweight(to_tsvector('english', help_fold(help_keywords(keywords))), 'B') ||
        setweight(to_tsvector('english', help_fold(summary)), 'C') ||
        setweight(to_tsvector('english', help_fold(body)), 'D')
      ) STORED,
      CONSTRAINT help_articles_slug_check CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$')
    )`.execute(db);
  await sql`CREATE INDEX help_articles_search_idx ON help_articles USING gin (search)`.execute(db);

  // One row per visitor and article: a second vote replaces the first (upsert on the key).
  await sql`
    CREATE TABLE help_votes (
      article_slug text NOT NULL REFERENCES help_articles(slug) ON DELETE CASCADE ON UPDATE CASCADE,
      voter text NOT NULL,
      helpful boolean NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      CONSTRAINT help_votes_pkey PRIMARY KEY (article_slug, voter)
    )`.execute(db);

  // The feed is kept as the JSON text it was given, so it reads back exactly as stored.
  await sql`
    CREATE TABLE notice_feed (
      id integer PRIMARY KEY DEFAULT 1,
      feed text NOT NULL,
      updated_at timestamptz NOT NULL,
      updated_by uuid,
      CONSTRAINT notice_feed_single CHECK (id = 1)
    )`.execute(db);
  const emptyFeed = JSON.stringify({ global: { message: '', icon: 'info', start: '', end: '' }, responsive: [] });
  await sql`INSERT INTO notice_feed (id, feed, updated_at) VALUES (1, ${emptyFeed}, ${WRITTEN_AT}::timestamptz)`.execute(db);

  for (const a of articles) {
    await sql`
      INSERT INTO help_articles (slug, title, summary, body, keywords, related, created_at, updated_at)
      VALUES (${a.slug}, ${a.title}, ${a.summary}, ${a.body.trim() + '\n'}, ${a.keywords}::text[], ${a.related}::text[],
              ${WRITTEN_AT}::timestamptz, ${WRITTEN_AT}::timestamptz)`.execute(db);
  }
}

export async function down(): Promise<void> {
  throw new Error('0004_help_notices cannot be undone');
}

interface SeedArticle {
  slug: string;
  title: string;
  summary: string;
  keywords: string[];
  related: string[];
  body: string;
}

const articles: SeedArticle[] = [
  {
    slug: 'why-we-verify-phones',
    title: 'Why we ask you to verify your phone number',
    summary: 'You need a verified mobile number before you post a job or send a proposal. Here is why, and how to do it in a minute.',
    keywords: ['verify my phone', 'phone verification', 'why do I need a phone number', 'verify my number', 'cannot post a job', 'cant submit a proposal', 'phone verification required', 'add phone number'],
    related: ['code-not-received', 'voip-numbers', 'phone-number-in-use'],
    body: `
Before you can **post a job** or **submit a proposal**, we ask you to verify a mobile phone number with a one-time code. It takes about a minute.

## Why we ask

- **It keeps the marketplace real.** A number that can receive a code is hard to fake in bulk, so it stops most fake and duplicate accounts before they reach you.
- **It protects your account.** A verified number can be one of your two-step verification methods and helps you get back in if you are locked out.
- **One number, one account.** A number can be linked to only one account, which is part of how we keep one account per person.

We never show your number to other members, and we use it only for security messages.

## How to verify your number

1. Go to [Your phone](/account/phone).
2. Choose your country, enter your mobile number, and choose a text message or a voice call.
3. Type the code we send you. Codes expire after a few minutes; if yours has expired, ask for a new one.

As soon as the number is verified you can post jobs and send proposals.

## If something goes wrong

- The code did not arrive: see [I didn't get my verification code](/help/code-not-received).
- The number is refused as VoIP: see [Why VoIP numbers are not accepted](/help/voip-numbers).
- The number is already in use: see [This phone number is already linked to another account](/help/phone-number-in-use).
`,
  },
  {
    slug: 'phone-number-in-use',
    title: 'This phone number is already linked to another account',
    summary: 'A number can belong to one account only. If you see this message you probably have an account already; here is how to get back into it.',
    keywords: ['phone number already in use', 'number linked to another account', 'phone number already used', 'number already registered', 'phone in use', 'number taken'],
    related: ['one-account-per-person', 'forgot-password', 'contact-support'],
    body: `
A phone number can be linked to **one live account only**. If you see *"This phone number is already linked to another account"*, the number is already verified on another account.

## The usual reason: you already have an account

Most people who see this message signed up some time ago and forgot, or signed up again to hire after joining as a freelancer. You don't need a second account: freelancer, client and agency are roles on one account.

1. [Reset your password](/recover/password) with the e-mail address or username of your first account. If the account exists, we e-mail you a link.
2. Sign in to that account and add the roles you need on [Your account](/account).
3. Sign in to the extra account and close it on [Security](/account/security) (**Close account**). Closing it releases its phone number.

## If the number is yours but the account is not

Phone companies sometimes give old numbers to new customers. If you are sure the other account isn't yours, [contact support](/support/contact) and choose **Phone verification**. We check the account that holds the number and can release it. For privacy we never tell you whose account it is.

## Using another number

You can also verify a different mobile number that you own on [Your phone](/account/phone).
`,
  },
  {
    slug: 'code-not-received',
    title: "I didn't get my verification code",
    summary: 'What to do when a text message or call with your code does not arrive: check the delivery status, resend it, or ask for a voice call.',
    keywords: ['code not received', "didn't get the code", 'verification code not arriving', 'code never came', 'no sms', 'no text message', 'sms not delivered', 'resend code', 'otp not received', 'waiting for code', 'voice call'],
    related: ['why-we-verify-phones', 'voip-numbers', 'lost-phone'],
    body: `
We hand your code to the phone network at once, and it usually arrives within seconds. If it hasn't, work through these steps on [Your phone](/account/phone).

## 1. Look at the delivery status

Below the code box we show what the phone network reported about your last message:

- **Queued** or **Sent**: it is on its way. Give it a minute; networks are sometimes slow.
- **Delivered**: the network says your phone received it. Check your messages, including filtered, spam or blocked senders.
- **Undelivered** or **Failed**: the network could not deliver it. Check the number and your signal, then try again or ask for a voice call.

## 2. Check the number

Make sure the country and the number are right, with no extra or missing digits. If it is wrong, enter the right number and we send a new code.

## 3. Resend it, or get a voice call

Choose **Resend code**. To stop abuse there is a short wait before each resend, and the wait grows a little each time. If text messages don't reach you, choose a **voice call**: an automated call reads the code out to you.

## 4. Check your coverage

Codes need mobile signal. If you are abroad, make sure roaming is on. Some networks filter messages from automated senders; a voice call usually still gets through.

## Still nothing?

Only the newest code works, so always type the latest one. If there is a known delay in your country, we show a notice at the top of every page. If no code arrives even by voice call, [contact support](/support/contact) and choose **Phone verification**.
`,
  },
  {
    slug: 'voip-numbers',
    title: 'Why VoIP and virtual numbers are not accepted',
    summary: 'We can verify only real phone numbers. VoIP, toll-free, premium-rate and other virtual numbers are refused.',
    keywords: ['voip number not accepted', 'virtual number', 'google voice number', 'internet number', 'number not supported', 'phone type not supported', 'use a different number', 'online number', 'textnow'],
    related: ['why-we-verify-phones', 'code-not-received', 'contact-support'],
    body: `
When you verify a phone number we check what kind of number it is. If it is a **VoIP** or other virtual number you'll see *"We can't verify VoIP numbers; please use a different, non-VoIP number."*

## Why

Verifying a phone is how we make sure each account belongs to a real person. VoIP numbers, for example from internet calling apps, can be created in seconds and in bulk, so they prove very little. For the same reason we also refuse:

- toll-free numbers,
- premium-rate and shared-cost numbers,
- pagers,
- personal (forwarding) and UAN numbers.

## What to do

Use a **mobile number from a mobile network** that you own, ideally the SIM in your phone, and enter it on [Your phone](/account/phone). If your number is a landline, choose a voice call instead of a text message.

If you are sure your number is an ordinary mobile number and it is still refused, [contact support](/support/contact) with the number's country and network: number ranges sometimes move between providers.
`,
  },
  {
    slug: 'lost-phone',
    title: 'I lost my phone or changed my number',
    summary: 'Sign in with another two-step method, or ask us to reset your security information if you have no other method.',
    keywords: ['lost phone', 'lost my phone', 'phone stolen', 'new phone number', 'changed my number', 'no access to my phone', 'broken phone', 'reset security information', 'lost authenticator'],
    related: ['two-step-verification-methods', 'forgot-security-answer', 'contact-support'],
    body: `
If your phone is lost, stolen or broken, or you changed your number, you can still get back into your account.

## If you have another two-step method

When we ask for a code, choose **Try another method**. You can use any method you set up:

- a **backup code** (one of the ten codes you saved),
- your **authenticator app** on another device,
- a code sent to your **e-mail**,
- your **security question**.

Once you're in, open [Security](/account/security), remove the old number, add your new one on [Your phone](/account/phone), and create fresh backup codes.

## If you have no other method

Send a request to [reset your security information](/recover/security-reset). Give your username or e-mail, your full name, an e-mail address where we can reach you, and anything that helps show the account is yours.

1. A support agent checks your identity and may ask you for more information.
2. If the request is approved, there is a **waiting period** before it takes effect. We e-mail your account's address, so if someone else made the request you can cancel it.
3. After the waiting period, two-step verification is cleared. Sign in with your password and set it up again straight away.

## Avoid this next time

Keep at least two methods, for example an authenticator app **and** backup codes stored somewhere safe. See [Two-step verification methods](/help/two-step-verification-methods).
`,
  },
  {
    slug: 'forgot-password',
    title: "I forgot my password or can't sign in",
    summary: 'Reset your password with a link we e-mail you. If you use two-step verification, you confirm it is you first.',
    keywords: ['forgot my password', 'forgot password', "I can't log in", 'cant login', "can't sign in", 'reset password', 'password not working', 'locked out', 'login problem', 'wrong password', 'password reset link', 'account locked'],
    related: ['no-access-to-email', 'lost-phone', 'account-compromised'],
    body: `
## Reset your password

1. Go to [Reset your password](/recover/password).
2. Enter your **username or e-mail address**.
3. If an account exists, we e-mail a reset link to its address. For your privacy the page looks the same either way.
4. Open the link and choose a new password. The link works once and expires after a short time; if it has expired, ask for a new one.

If you use two-step verification, we ask you to pass one of your methods before the new password is accepted.

After a reset **every other session is signed out** and we e-mail you a notice. If you get that e-mail and didn't reset your password, follow [Someone else is using my account](/help/account-compromised).

## The e-mail didn't arrive

- Check your spam or junk folder, and wait a few minutes.
- Try the other one: your username instead of your e-mail address, or the reverse.
- If you can't use that e-mail address any more, see [I can't get into my e-mail](/help/no-access-to-email).

## Too many attempts

After many wrong passwords we pause sign-in to the account for a while, to protect it. Wait and try again, or reset your password.

## Choosing a good password

Use a long passphrase of several unrelated words. Don't use your username, your e-mail address, or a password you use anywhere else.
`,
  },
  {
    slug: 'forgot-security-answer',
    title: 'I forgot the answer to my security question',
    summary: 'Choose "Forgot your answer?" while we ask the question, and we e-mail you a link to set a new question and answer.',
    keywords: ['forgot security answer', 'forgot my security question', 'security question wrong', "don't remember my answer", 'reset security question', 'wrong answer'],
    related: ['lost-phone', 'two-step-verification-methods', 'no-access-to-email'],
    body: `
If you can't remember the answer to your security question:

1. While we are asking the question (when you sign in, or when we check it's you), choose **Forgot your answer?**
2. We e-mail a link to your account's e-mail address.
3. Open the link and choose a new question and a new answer.

The link works once and expires after a short time.

## Tips for a good answer

- Choose a question whose answer never changes and that others can't find online.
- Spelling matters. Keep a note of your answer somewhere safe.

## If the e-mail doesn't come

Use **Try another method** to sign in with a backup code, your authenticator app or a text message. If you have no other way in, see [I lost my phone or changed my number](/help/lost-phone) or [I can't get into my e-mail](/help/no-access-to-email).

You can change your question at any time on [Security](/account/security).
`,
  },
  {
    slug: 'two-step-verification-methods',
    title: 'Two-step verification: the methods and how to set them up',
    summary: 'Text message, authenticator app, security question, backup codes and e-mail code. Keep at least two so you are never locked out.',
    keywords: ['two step verification', '2sv', '2fa', 'two factor authentication', 'authenticator app', 'backup codes', 'google authenticator', 'security settings', 'turn on 2 step', 'try another method'],
    related: ['lost-phone', 'forgot-security-answer', 'account-compromised'],
    body: `
Two-step verification (2SV) asks for something besides your password when you sign in, so a stolen password alone can't open your account. We also ask again before sensitive actions: changing security settings, opening payments and withdrawing funds.

Set up your methods on [Security](/account/security).

| Method | How it works |
|---|---|
| Text message | We text a code to your [verified phone](/help/why-we-verify-phones). |
| Authenticator app | An app such as Google Authenticator or Microsoft Authenticator shows a new code every 30 seconds, even offline. Scan the QR code to set it up. |
| Security question | You answer a question only you know. |
| Backup codes | Ten single-use codes to print or keep somewhere safe. Making new ones cancels the old ones. |
| E-mail code | We e-mail a code to your account's address. |

## Keep at least two

If you have only one method and lose it (a lost phone, say), you need a slower identity check to get back in. With two or more you simply choose **Try another method**. We recommend an authenticator app plus backup codes.

## Changing your methods

Once 2SV is on, adding, changing or removing a method asks you to confirm it's you first. Add a new method before you remove your last one.
`,
  },
  {
    slug: 'account-compromised',
    title: 'Someone else is using my account',
    summary: "If you see sign-ins, changes or messages you don't recognise, report it: we sign everyone out and help you take your account back.",
    keywords: ['account hacked', 'my account was hacked', 'compromised account', 'someone logged into my account', "this wasn't me", 'suspicious activity', 'unauthorized access', 'account stolen', 'strange sign in', 'someone changed my password'],
    related: ['forgot-password', 'two-step-verification-methods', 'contact-support'],
    body: `
Signs that someone else may be using your account: a sign-in or security e-mail you didn't expect, settings that changed, messages or proposals you didn't send, or a password that suddenly stops working.

## If you can still sign in

While signed in, go to [Report a compromised account](/support/compromised) and send the report. We then, at once:

- sign out **every** session, yours included,
- require a **new password** before anyone can sign in again,
- open a **high-priority** ticket for our security team.

Then [reset your password](/recover/password), sign in, and review [Security](/account/security): remove methods you don't recognise, make new backup codes and check your sessions.

## From a security e-mail

Our security e-mails have a **"This wasn't me"** link. Following it locks the intruder out in the same way.

## If you can't sign in

Use the same [report form](/support/compromised) without signing in and give us an e-mail address where we can reach you. This opens a ticket for our team but does not lock the account by itself, so nobody can lock someone else out by reporting them. An agent contacts you to confirm that the account is yours.

## Protect yourself

- Never share a code we send you. We will never ask for one by phone, chat or e-mail.
- Use a password you don't use anywhere else, and turn on [two-step verification](/help/two-step-verification-methods).
`,
  },
  {
    slug: 'contact-support',
    title: 'How to contact support',
    summary: 'Send us a request with the contact form; you do not need to sign in. Here is what to include so we can help quickly.',
    keywords: ['contact support', 'customer service', 'help desk', 'talk to someone', 'open a ticket', 'support request', 'email support', 'speak to a person'],
    related: ['no-access-to-email', 'account-compromised', 'forgot-password'],
    body: `
You can reach our support team with the [contact form](/support/contact). You don't need to be signed in.

## What to include

- The **category**: sign-in, account recovery, phone verification, compromised account, billing or other. The right category gets your request to the right person.
- Your **username or account e-mail**, if you have an account, and an e-mail address where we can reach you.
- What you were trying to do, what happened, and any error message, word for word.

Never send your password, verification codes or backup codes. We will never ask for them.

## After you send it

We show you a link to your ticket with a private key. Keep it: it lets you follow the ticket and reply without signing in.

## Faster answers

Many problems can be solved straight away:

- [I forgot my password or can't sign in](/help/forgot-password)
- [I didn't get my verification code](/help/code-not-received)
- [I lost my phone or changed my number](/help/lost-phone)
- [Someone else is using my account](/help/account-compromised)
`,
  },
  {
    slug: 'one-account-per-person',
    title: 'One account per person',
    summary: 'One account covers freelancing, hiring and running an agency. If you made a second account, recover the first and close the extra one.',
    keywords: ['two accounts', 'second account', 'duplicate account', 'multiple accounts', 'create another account', 'separate client account', 'merge accounts', 'switch to client', 'freelancer and client'],
    related: ['phone-number-in-use', 'forgot-password', 'contact-support'],
    body: `
Each person may have **one account**, and you use it in every role:

- **Freelancer**: offer your work and send proposals,
- **Client**: post jobs and hire,
- **Agency**: run a team.

Roles are settings on your account, not separate accounts. Add or remove them at any time on [Your account](/account).

## Why

One account per person keeps reviews, payments and trust honest: your history stays with you, and nobody can start again with a clean record after breaking the rules. It is also why a phone number can be linked to only one account.

## If you made a second account

1. Get back into your first account: [reset its password](/recover/password) if you don't remember it, or [contact support](/support/contact) if you can't.
2. Add the roles you need to your first account.
3. Sign in to the extra account and close it on [Security](/account/security) (**Close account**).

If the extra account has work or payments in progress, finish them or contact support before you close it.
`,
  },
  {
    slug: 'no-access-to-email',
    title: "I can't get into my e-mail",
    summary: "Reset links go to your account's e-mail address. If you can't use it any more, support can check who you are and help.",
    keywords: ['no access to email', 'lost access to my email', "can't access my email", 'old email address', 'email account closed', 'reset link to old email'],
    related: ['contact-support', 'forgot-password', 'lost-phone'],
    body: `
Password reset and security links go to your account's e-mail address. If you can't use that address any more, you can't recover the account by yourself, because we have no other safe way to know it's you.

## What to do

1. First try to recover the e-mail account with your e-mail provider. That is often the fastest way.
2. If that doesn't work, [contact support](/support/contact) and choose **Account recovery**. Give your username, your full name, an e-mail address where we can reach you now, and details that show the account is yours.
3. A support agent checks your identity and helps you get back in.

## Make it easier next time

Set up at least two [two-step methods](/help/two-step-verification-methods), and keep your backup codes somewhere safe.
`,
  },
  {
    slug: 'confirm-its-you',
    title: "Why we ask you to confirm it's you again",
    summary: 'Before payments, withdrawals and security changes we ask for a fresh two-step check, even when you are signed in.',
    keywords: ['asked for a code again', "confirm it's you", 'withdrawal code', 'withdraw funds verification', 'payments verification', 'step up'],
    related: ['two-step-verification-methods', 'code-not-received'],
    body: `
Even when you are signed in, we ask for a two-step code again before some sensitive actions:

- opening your payments or withdrawing funds,
- changing your security settings, such as adding or removing a method or closing your account.

This means that someone who picks up a signed-in device still can't move your money or lock you out. After a successful check we won't ask again for a little while.

## If the code doesn't come

Choose **Try another method** to use your authenticator app, a backup code or e-mail. If codes are delayed in your country, we show a notice at the top of every page. See also [I didn't get my verification code](/help/code-not-received).
`,
  },
];
