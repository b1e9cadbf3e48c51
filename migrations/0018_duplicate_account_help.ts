// Frozen: never edit a migration that has shipped; add a new one.
// Help article for a member with two accounts (issue 13, item 4): recover the first one, even
// knowing only its phone number, then close the extra one. The articles that send members here
// name it among their related articles; a seed an admin has since edited keeps its own text.
import { sql, type Kysely } from 'kysely';

// When the text was written; migrations have no clock, so it is a fixed time.
const WRITTEN_AT = '2026-12-01T00:00:00Z';
const SLUG = 'duplicate-account';

const article = {
  title: 'I made a second account by mistake',
  summary:
    'Get back into the account you had first, even if you only remember its phone number, then close the extra one. Closing it frees its phone number.',
  keywords: [
    'duplicate account',
    'two accounts',
    'i made 2 accounts',
    'made a second account',
    'second account by mistake',
    'close extra account',
    'delete my second account',
    'recover my old account',
    'forgot which email i used',
    'number on my other account',
  ],
  related: ['one-account-per-person', 'phone-number-in-use', 'forgot-password', 'contact-support'],
  body: `
Each person may have [one account](/help/one-account-per-person). If you signed up again, for example to hire after joining as a freelancer, keep one account and close the other. Freelancer, client and agency are roles you can add to the account you keep, so you don't need two.

A common sign: on [Your phone](/account/phone) your number is refused with *"This phone number is already verified on another account"*. That other account is probably your first one.

## 1. Get back into your first account

You don't need to remember its username or e-mail address.

- **From the phone page:** under the message, choose **E-mail a reset link to the account that holds this number**. We send the link to that account's e-mail address. For privacy we never show whose account it is, so look in each inbox you use, and in spam.
- **With its username or e-mail:** go to [Reset your password](/recover/password) and enter either one. The phone number verified on it works too, with + and the country code.
- **No access to that e-mail any more:** see [I can't get into my e-mail](/help/no-access-to-email), or [contact support](/support/contact) and choose **Phone verification**.

Open the link, pass your two-step check if the account has one, and choose a new password. Then [sign in](/login) to your first account.

## 2. Move what you need

On [Your account](/account), add the roles you need. If the extra account has jobs, proposals or payments in progress, finish them, or contact support before you close it.

## 3. Close the extra account

1. Sign out, then sign in to the extra account.
2. Open [Security](/account/security) and choose **Close my account**.
3. Confirm it's you: with your password, or with a two-step code if two-step verification is on for that account.

Closing ends every session of that account, refuses sign-in to it from then on and **releases its phone number**. We e-mail the account's address to confirm it.

## 4. Your phone number

If your number is verified on the account you kept, there is nothing more to do. If it was on the account you closed, it is free now: verify it on [Your phone](/account/phone) while signed in to the account you kept.

## If the other account isn't yours

Phone companies sometimes give old numbers to new customers. If you are sure the account that holds your number isn't yours, [contact support](/support/contact) and choose **Phone verification**. We check that account and can release the number.
`,
};

// The first step of phone-number-in-use, as seeded by 0004, and what it says now.
const OLD_STEP =
  '1. [Reset your password](/recover/password) with the e-mail address or username of your first account. If the account exists, we e-mail you a link.';
const NEW_STEP =
  '1. Under the message on [Your phone](/account/phone), choose **E-mail a reset link to the account that holds this number**, or [reset your password](/recover/password) with the e-mail address or username of your first account. We e-mail the link to that account\'s address. Step by step: [I made a second account by mistake](/help/duplicate-account).';

export async function up(db: Kysely<any>): Promise<void> {
  // An admin may have written an article with this slug already: theirs stays.
  await sql`
    INSERT INTO help_articles (slug, title, summary, body, keywords, related, created_at, updated_at)
    VALUES (${SLUG}, ${article.title}, ${article.summary}, ${article.body.trim() + '\n'}, ${article.keywords}::text[],
            ${article.related}::text[], ${WRITTEN_AT}::timestamptz, ${WRITTEN_AT}::timestamptz)
    ON CONFLICT (slug) DO NOTHING`.execute(db);
  await sql`
    UPDATE help_articles SET related = array_append(related, ${SLUG}::text)
    WHERE slug IN ('phone-number-in-use', 'one-account-per-person') AND NOT (${SLUG}::text = ANY(related)) AND cardinality(related) < 10`.execute(db);
  // Only the seed's own wording is replaced; an edited article is left as its editor wrote it.
  await sql`
    UPDATE help_articles SET body = replace(body, ${OLD_STEP}::text, ${NEW_STEP}::text)
    WHERE slug = 'phone-number-in-use' AND updated_by IS NULL AND position(${OLD_STEP}::text IN body) > 0`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('0018_duplicate_account_help cannot be undone');
}
