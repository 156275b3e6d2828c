import { mount } from 'svelte';
import { routeOf } from './lib/route.js';
import { takeTokenFragment } from './lib/token-fragment.js';
import SessionGate from './SessionGate.svelte';
import SharePage from './SharePage.svelte';
import './app.css';

// First of all: a `#token=` link's token leaves the address bar before anything can keep or log it.
const token = takeTokenFragment(window);

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');

const route = routeOf(window.location.pathname);

export default route.page === 'share' ? mount(SharePage, { target, props: { token: route.token } }) : mount(SessionGate, { target, props: { token } });
